"""Receive one telephony webhook: verify, identify, store raw, queue processing, screen pop.

Nothing is written before the request is verified and its payload validated, so a bad
request changes nothing; the raw event is committed in its own transaction together with
its processing job; a redelivery finds the stored event and changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.audit import service as audit
from voronka.config import Settings
from voronka.errors import NotFound
from voronka.integrations import inbound
from voronka.integrations.group_commit import GroupWriter
from voronka.integrations.telephony import screen_pop
from voronka.integrations.telephony.asterisk import read_cdr
from voronka.integrations.telephony.base import RawRequest
from voronka.integrations.telephony.providers import PROVIDERS
from voronka.integrations.telephony.tasks import PROCESS_EVENT
from voronka.live import Broker


def accept(settings: Settings, *, provider: str, request: RawRequest) -> dict[str, Any]:
    """Verify and validate one webhook request of ``provider``; return the fields to store
    (the arguments of ``inbound.record``). Raises (401/400/404) before anything is written.
    Pure CPU work: safe to run on the event loop."""
    handler = PROVIDERS.get(provider)
    if handler is None:
        raise NotFound(f"no telephony provider {provider!r}")
    handler.verify(request, settings)
    delivery = handler.identify(request)
    return {
        "workspace_id": settings.hooks_workspace_id,
        "provider": provider,
        "kind": delivery.kind,
        "external_id": delivery.external_id,
        "body": delivery.body,
        "headers": request.headers,
        "content_type": request.content_type,
        "process_with": PROCESS_EVENT,
        "ignored": not delivery.handled,
    }


def wants_screen_pop(stored: inbound.Stored, broker: Broker | None) -> bool:
    """Whether a browser may be waiting for this event's card (a new, handled event)."""
    return (stored.created and stored.event.status is inbound.InboundStatus.RECEIVED
            and broker is not None and broker.listening())


def screen_pop_for(engine: Engine, broker: Broker, settings: Settings,
                   stored: inbound.Stored) -> int:
    """Push the caller's card for a stored event to the answering manager (reads the store)."""
    event = stored.event
    events = PROVIDERS[event.provider].parse(event.kind, event.body, clock.now())
    return screen_pop.pop(engine, broker, workspace_id=settings.hooks_workspace_id,
                          provider=event.provider, events=events)


def receive(
    engine: Engine, broker: Broker | None, settings: Settings, *, provider: str,
    request: RawRequest, writer: GroupWriter | None = None,
) -> inbound.Stored:
    """Handle one webhook request of ``provider`` synchronously; returns the stored event.

    With a ``writer`` the event is committed together with those of concurrent requests
    (group commit); without one, in a transaction of its own. (The web route runs the same
    steps without holding a thread while the event is committed.)
    """
    fields = accept(settings, provider=provider, request=request)
    stored = writer.store(**fields) if writer is not None else inbound.store_raw(engine, **fields)
    if wants_screen_pop(stored, broker):
        assert broker is not None
        screen_pop_for(engine, broker, settings, stored)
    return stored


def import_cdr(session: Session, settings: Settings, *, actor: Actor, text: str) -> dict[str, int]:
    """Store every row of an Asterisk CDR file as an event and queue its processing.

    The file is checked whole first: one bad row and nothing is stored (the error names
    each bad row and column). Rows already imported (same ``uniqueid``) are skipped.
    Runs in the caller's transaction.
    """
    rows = read_cdr(text)
    created = 0
    for row in rows:
        stored = inbound.record(
            session,
            workspace_id=settings.hooks_workspace_id,
            provider="asterisk",
            kind="cdr",
            external_id=f"cdr:{row.uniqueid}",
            body=row.body,
            content_type="text/csv",
            process_with=PROCESS_EVENT,
        )
        created += stored.created
    audit.record(session, actor, action="import", entity="asterisk_cdr", row_count=len(rows),
                 detail={"stored": created})
    return {"rows": len(rows), "stored": created, "duplicates": len(rows) - created}
