"""Telephony webhooks: public addresses authenticated by each provider's signature.

Every handler verifies, stores the raw event (its own transaction) and answers; the work
happens in a job. See docs/integrations.md for each provider's set-up.

These routes are the hot path of ingestion (docs/benchmarks.md, "Webhook ingestion"), so
they stay lean: no dependencies, verification on the event loop, the store awaited without
holding a thread (group commit), and the answer written as bytes (the declared
``response_model`` documents it).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from voronka.access.policy import Action
from voronka.config import get_settings
from voronka.integrations import inbound
from voronka.integrations.group_commit import GroupWriter
from voronka.integrations.telephony import receiver
from voronka.integrations.telephony.base import RawRequest, decode_utf8
from voronka.web.api.v1.events import broker_of
from voronka.web.deps import DbSession, Grant, grant

router = APIRouter(prefix="/hooks", tags=["webhooks"])


class HookAnswer(BaseModel):
    status: str  # received | duplicate | ignored
    event_id: int


class CdrAnswer(BaseModel):
    rows: int
    stored: int
    duplicates: int


async def _raw(request: Request, **query: str) -> RawRequest:
    return RawRequest(
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
        query={**request.query_params, **query},
        content_type=request.headers.get("content-type", ""),
    )


def _answer(stored: inbound.Stored) -> Response:
    """The :class:`HookAnswer` as bytes (no model validation on the hot path)."""
    event = stored.event
    if not stored.created:
        status = "duplicate"
    else:
        status = "ignored" if event.status is inbound.InboundStatus.IGNORED else "received"
    body = b'{"status":"%s","event_id":%d}' % (status.encode(), event.id)
    return Response(body, media_type="application/json")


_writer_lock = threading.Lock()


def writer_of(app: FastAPI) -> GroupWriter | None:
    """The application's group-commit writer: on PostgreSQL stores unless the setting is
    off. SQLite's commits are cheap (WAL) and it has one writer at a time anyway, so there
    batching measured slower (docs/benchmarks.md)."""
    if not get_settings().hooks_group_commit or app.state.engine.dialect.name != "postgresql":
        return None
    with _writer_lock:
        writer = getattr(app.state, "inbound_writer", None)
        if writer is None:
            writer = GroupWriter(app.state.engine)
            app.state.inbound_writer = writer
        return writer


async def _receive(request: Request, provider: str, **query: str) -> Response:
    settings, engine = get_settings(), request.app.state.engine
    fields = receiver.accept(settings, provider=provider, request=await _raw(request, **query))
    writer = writer_of(request.app)
    if writer is not None:
        stored = await writer.store_async(**fields)
    else:
        stored = await run_in_threadpool(inbound.store_raw, engine, **fields)
    broker = broker_of(request.app)
    if receiver.wants_screen_pop(stored, broker):
        await run_in_threadpool(receiver.screen_pop_for, engine, broker, settings, stored)
    return _answer(stored)


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed payload; the error names the field"},
    401: {"description": "Missing or wrong signature, or the provider is not configured"},
}


@router.post("/generic", response_model=HookAnswer, responses=_ERRORS)
async def generic_event(request: Request) -> Response:
    """A call event in Voronka's generic JSON format (signed with X-Voronka-Signature)."""
    return await _receive(request, "generic")


@router.post("/asterisk/events", response_model=HookAnswer, responses=_ERRORS)
async def asterisk_event(request: Request) -> Response:
    """One Asterisk AMI event forwarded as JSON (signed with X-Voronka-Signature)."""
    return await _receive(request, "asterisk")


@router.post("/zadarma", response_model=HookAnswer, responses=_ERRORS)
async def zadarma_event(request: Request) -> Response:
    """A Zadarma PBX notification (form fields, Signature header)."""
    return await _receive(request, "zadarma")


@router.get("/zadarma", response_class=PlainTextResponse)
def zadarma_echo(zd_echo: str = "") -> str:
    """Zadarma's address check: answer the ``zd_echo`` value."""
    return zd_echo[:100]


@router.post("/mango/events/{event}", response_model=HookAnswer, responses=_ERRORS)
async def mango_event(request: Request, event: str) -> Response:
    """A Mango Office VPBX notification (``events/call``, ``events/summary``…)."""
    return await _receive(request, "mango", event=event[:64])


@router.post(
    "/asterisk/cdr", response_model=CdrAnswer, responses={422: {"description": "Bad rows"}}
)
async def asterisk_cdr(
    request: Request, session: DbSession, g: Annotated[Grant, grant("activity", Action.IMPORT)]
) -> CdrAnswer:
    """Import an Asterisk CDR file (``Master.csv``, body ``text/csv``): all rows or none."""
    text = decode_utf8(await request.body())
    counts = await run_in_threadpool(
        receiver.import_cdr, session, get_settings(), actor=g.actor, text=text
    )
    return CdrAnswer(**counts)


HOOKS_PREFIX = "/api/v1/hooks/"
_SHORTCUTS = {
    "generic": generic_event,
    "asterisk/events": asterisk_event,
    "zadarma": zadarma_event,
}
_MANGO = "mango/events/"


class HookShortcut:
    """Send ``POST /api/v1/hooks/<provider>…`` straight to the endpoints above.

    The endpoints are the routes declared on ``router`` (so the API description and the
    route checks see them); only the lookup is shortened: FastAPI's router tries its
    routes one by one (~270 here), which cost more CPU than verifying and storing an event.
    Expected errors are rendered by the application's own exception handlers (one error
    shape); anything else propagates to the 500 handler, as from a route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call = _shortcut(scope) if scope["type"] == "http" else None
        if call is None:
            await self.app(scope, receive, send)
            return
        endpoint, params = call
        request = Request(scope, receive)
        try:
            response = await endpoint(request, **params)
        except Exception as exc:
            handler = _handler_for(request.app, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def _shortcut(scope: Scope) -> tuple[Callable[..., Awaitable[Response]], dict[str, str]] | None:
    path: str = scope["path"]
    if scope["method"] != "POST" or not path.startswith(HOOKS_PREFIX):
        return None
    rest = path[len(HOOKS_PREFIX):]
    if rest in _SHORTCUTS:
        return _SHORTCUTS[rest], {}
    event = rest[len(_MANGO):] if rest.startswith(_MANGO) else ""
    if event and "/" not in event:
        return mango_event, {"event": event}
    return None


def _handler_for(app: FastAPI, exc: Exception) -> Callable[..., Awaitable[Response]] | None:
    """The application's handler of ``exc``'s class (not the catch-all 500 one)."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in app.exception_handlers:
            return app.exception_handlers[cls]  # type: ignore[return-value]
    return None
