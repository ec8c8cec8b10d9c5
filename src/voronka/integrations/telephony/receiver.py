"""Receive one telephony webhook: verify, identify, store raw, queue processing, screen pop.

Nothing is written before the request is verified and its payload validated, so a bad
request changes nothing; the raw event is committed in its own transaction together with
its processing job; a redelivery finds the stored event and changes nothing.
"""

from __future__ import annotations

from functools import partial

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


def receive(
    engine: Engine, broker: Broker | None, settings: Settings, *, provider: str,
    request: RawRequest, writer: GroupWriter | None = None,
) -> inbound.Stored:
    """Handle one webhook request of ``provider``; returns the stored event.

    With a ``writer`` the event is committed together with those of concurrent requests
    (group commit); without one, in a transaction of its own.
    """
    handler = PROVIDERS.get(provider)
    if handler is None:
        raise NotFound(f"no telephony provider {provider!r}")
    handler.verify(request, settings)
    delivery = handler.identify(request)
    store = writer.store if writer is not None else partial(inbound.store_raw, engine)
    stored = store(
        workspace_id=settings.hooks_workspace_id,
        provider=provider,
        kind=delivery.kind,
        external_id=delivery.external_id,
        body=delivery.body,
        headers=request.headers,
        content_type=request.content_type,
        process_with=PROCESS_EVENT,
        ignored=not delivery.handled,
    )
    if stored.created and delivery.handled and broker is not None and broker.listening():
        events = handler.parse(delivery.kind, delivery.body, clock.now())
        screen_pop.pop(engine, broker, workspace_id=settings.hooks_workspace_id,
                       provider=provider, events=events)
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
