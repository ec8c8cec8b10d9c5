"""Routes for products (being written)."""

from fastapi import APIRouter

router = APIRouter()
