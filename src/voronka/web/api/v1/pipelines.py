"""Routes for pipelines (being written)."""

from fastapi import APIRouter

router = APIRouter()
