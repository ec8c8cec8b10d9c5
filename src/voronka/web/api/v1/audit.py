"""Routes for audit (being written)."""

from fastapi import APIRouter

router = APIRouter()
