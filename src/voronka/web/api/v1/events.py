"""Live events of the signed-in user (screen pop), as a Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse

from voronka.access.policy import Action
from voronka.config import get_settings
from voronka.live import Broker
from voronka.web.deps import Grant, grant

router = APIRouter(prefix="/events", tags=["events"])
KEEP_ALIVE_SECONDS = 15.0
_broker_lock = threading.Lock()


def broker_of(app: FastAPI) -> Broker:
    """The application's broker, made on first use (Redis-backed when the setting says)."""
    with _broker_lock:
        broker = getattr(app.state, "broker", None)
        if broker is None:
            broker = Broker(get_settings().events_redis_url)
            app.state.broker = broker
        return broker


async def _events(request: Request, broker: Broker, user_id: int) -> AsyncIterator[str]:
    async with broker.subscribe(user_id) as queue:
        yield ": connected\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(queue.get(), timeout=KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
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
