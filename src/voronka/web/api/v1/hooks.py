"""Telephony webhooks: public addresses authenticated by each provider's signature.

Every handler verifies, stores the raw event (its own transaction) and answers; the work
happens in a job. See docs/integrations.md for each provider's set-up.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

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


def _answer(stored: inbound.Stored) -> HookAnswer:
    event = stored.event
    if not stored.created:
        return HookAnswer(status="duplicate", event_id=event.id)
    status = "ignored" if event.status is inbound.InboundStatus.IGNORED else "received"
    return HookAnswer(status=status, event_id=event.id)


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


async def _receive(request: Request, provider: str, **query: str) -> HookAnswer:
    raw = await _raw(request, **query)
    stored = await run_in_threadpool(
        receiver.receive, request.app.state.engine, broker_of(request.app), get_settings(),
        provider=provider, request=raw, writer=writer_of(request.app),
    )
    return _answer(stored)


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed payload; the error names the field"},
    401: {"description": "Missing or wrong signature, or the provider is not configured"},
}


@router.post("/generic", response_model=HookAnswer, responses=_ERRORS)
async def generic_event(request: Request) -> HookAnswer:
    """A call event in Voronka's generic JSON format (signed with X-Voronka-Signature)."""
    return await _receive(request, "generic")


@router.post("/asterisk/events", response_model=HookAnswer, responses=_ERRORS)
async def asterisk_event(request: Request) -> HookAnswer:
    """One Asterisk AMI event forwarded as JSON (signed with X-Voronka-Signature)."""
    return await _receive(request, "asterisk")


@router.post("/zadarma", response_model=HookAnswer, responses=_ERRORS)
async def zadarma_event(request: Request) -> HookAnswer:
    """A Zadarma PBX notification (form fields, Signature header)."""
    return await _receive(request, "zadarma")


@router.get("/zadarma", response_class=PlainTextResponse)
def zadarma_echo(zd_echo: str = "") -> str:
    """Zadarma's address check: answer the ``zd_echo`` value."""
    return zd_echo[:100]


@router.post("/mango/events/{event}", response_model=HookAnswer, responses=_ERRORS)
async def mango_event(request: Request, event: str) -> HookAnswer:
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
