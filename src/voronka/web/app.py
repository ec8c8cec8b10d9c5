"""The FastAPI application: middleware, error shape and the /api/v1 routers."""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voronka import __version__
from voronka.config import get_settings
from voronka.db.session import get_engine
from voronka.web import errors, tracker_script
from voronka.web.api.v1 import router as api_v1
from voronka.web.api.v1.hooks import HookShortcut
from voronka.web.ui import router as ui

UPLOAD_PREFIX = "/api/v1/imports/"


class BodyLimit:
    """Refuse request bodies over the configured size before reading them whole.

    Import uploads have their own, larger limit; every other request the JSON limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app, self.json_limit, self.upload_limit = app, max_bytes, max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].startswith(UPLOAD_PREFIX) else self.json_limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(limit, scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                # FastAPI turns other errors raised while reading a body into 400
                raise HTTPException(413, f"request body is over {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    request_id = scope.get("state", {}).get("request_id")
    body = {
        "error": {
            "code": "payload_too_large",
            "details": [],
            "request_id": request_id,
            "message": f"request body is over {limit} bytes",
        }
    }
    await JSONResponse(body, 413)(scope, receive, send)


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
    app.include_router(tracker_script.router)  # GET /t.js, the site tracker snippet
    ui.install(app)

    app.add_middleware(HookShortcut)  # innermost: webhooks skip the router's linear search
    # Added first, so it runs inside the request-id middleware below.
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_request_bytes, max_upload_bytes=settings.max_upload_bytes
    )

    app.add_middleware(RequestContext)
    return app


class RequestContext:
    """Give every request an id and every response the security headers.

    Plain ASGI rather than ``@app.middleware("http")``: that wrapper costs a task and a
    memory stream per request, a large share of a webhook's budget (docs/benchmarks.md).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [
            (b"x-request-id", request_id.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
        ]
        if scope["path"].startswith("/api/"):
            extra.append((b"cache-control", b"no-store"))
        replaced = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in replaced]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
