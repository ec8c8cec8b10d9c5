"""ASGI entry point for servers: ``uvicorn voronka.web.asgi:app``."""

from voronka.web.app import create_app

app = create_app()
