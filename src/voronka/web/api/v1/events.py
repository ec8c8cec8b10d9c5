"""Live events of the signed-in user (screen pop), as a Server-Sent Events stream.

A stream lives for hours, so the session or API token that opened it is checked again every
``AUTH_RECHECK_SECONDS``: once it is revoked or expired, or its user deactivated, the stream
ends (the browser's reconnect then gets a 401).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from voronka.access.policy import Action
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.live import Broker
from voronka.user import credential
from voronka.web.deps import Grant, grant, secret_from

router = APIRouter(prefix="/events", tags=["events"])
KEEP_ALIVE_SECONDS = 15.0
#: How often an open stream checks that its session or token is still valid.
AUTH_RECHECK_SECONDS = 2.0
_broker_lock = threading.Lock()


def broker_of(app: FastAPI) -> Broker:
    """The application's broker, made on first use (Redis-backed when the setting says)."""
    with _broker_lock:
        broker = getattr(app.state, "broker", None)
        if broker is None:
            broker = Broker(get_settings().events_redis_url)
            app.state.broker = broker
        return broker


def _still_valid(request: Request, secret: str | None, user_id: int) -> bool:
    """Whether ``secret`` still resolves to the active user ``user_id``."""
    if not secret:
        return False
    with unit_of_work(request.app.state.engine, write=False) as session:
        resolved = credential.resolve(session, secret)
        return resolved is not None and resolved[0].id == user_id


async def _events(request: Request, broker: Broker, user_id: int) -> AsyncIterator[str]:
    secret = secret_from(request)
    loop = asyncio.get_running_loop()
    async with broker.subscribe(user_id) as queue:
        yield ": connected\n\n"
        quiet_since = checked_at = loop.time()
        while not await request.is_disconnected():
            if loop.time() - checked_at >= AUTH_RECHECK_SECONDS:
                if not await run_in_threadpool(_still_valid, request, secret, user_id):
                    yield 'event: end\ndata: {"reason": "signed_out"}\n\n'
                    return
                checked_at = loop.time()
            try:
                event = await asyncio.wait_for(queue.get(), timeout=AUTH_RECHECK_SECONDS)
            except TimeoutError:
                if loop.time() - quiet_since >= KEEP_ALIVE_SECONDS:
                    quiet_since = loop.time()
                    yield ": keep-alive\n\n"
                continue
            quiet_since = loop.time()
            yield f"event: {event.get('type', 'message')}\ndata: {json.dumps(event)}\n\n"


@router.get("/stream", response_class=StreamingResponse)
async def stream(
    request: Request, g: Annotated[Grant, grant("live_event", Action.READ)]
) -> StreamingResponse:
    """Server-Sent Events for the signed-in user only (``event: call`` is a screen pop)."""
    assert g.actor.user_id is not None
    return StreamingResponse(
        _events(request, broker_of(request.app), g.actor.user_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
