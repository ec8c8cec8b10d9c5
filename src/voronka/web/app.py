"""The FastAPI application: middleware, error shape and the /api/v1 routers."""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voronka import __version__
from voronka.config import get_settings
from voronka.db.session import get_engine
from voronka.web import errors
from voronka.web.api.v1 import router as api_v1


class BodyLimit:
    """Refuse request bodies over the configured size before reading them whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = {
            "error": {
                "code": "payload_too_large",
                "details": [],
                "request_id": None,
                "message": f"request body is over {self.max_bytes} bytes",
            }
        }
        await JSONResponse(body, 413)(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(engine: Engine | None = None) -> FastAPI:
    """Build the web application on ``engine`` (the configured store by default)."""
    settings = get_settings()
    app = FastAPI(
        title="Voronka API",
        version=__version__,
        description="REST API of Voronka, the analytical CRM. Errors share one JSON shape.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the stock pages load assets from a CDN; the UI serves its own
        redoc_url=None,
    )
    app.state.engine = engine or get_engine()
    errors.install(app)
    app.include_router(api_v1, prefix="/api/v1")

    @app.middleware("http")
    async def request_context(request: Request, call_next):  # type: ignore[no-untyped-def]
        request.state.request_id = secrets.token_hex(8)
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    return app
