"""HTTP interface: the FastAPI application, REST API under /api/v1."""
