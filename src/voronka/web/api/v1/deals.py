"""Routes for deals (being written)."""

from fastapi import APIRouter

router = APIRouter()
