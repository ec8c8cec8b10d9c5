"""Store raw first, then process at once: the path of the site tracker, lead forms and mail.

1. :func:`voronka.integrations.inbound.store_raw` commits the raw request in its own
   transaction, deduplicated by its idempotency key;
2. :func:`process_event` does the domain work in a savepoint of a second transaction and
   marks the event processed with what it produced. When the work raises, the savepoint is
   rolled back, the event is marked failed with the error and given its ``handler`` job
   kind, so ``voronka hooks replay`` (or the job below) can run it again. Nothing received
   is lost and nothing is half-written.

The same :func:`process_event` runs inside the replay job (:func:`replay_handler`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from voronka.db.session import unit_of_work
from voronka.errors import VoronkaError
from voronka.integrations import inbound
from voronka.integrations.inbound import InboundEvent, InboundStatus

log = logging.getLogger(__name__)

Processor = Callable[[Session, InboundEvent], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one received request."""

    event_id: int
    duplicate: bool  # the idempotency key was stored before
    status: InboundStatus
    result: dict[str, Any] | None
    error: str | None = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, VoronkaError):
        fields = ", ".join(d.field for d in exc.details if d.field)
        return f"{exc.code}: {exc.message}" + (f" [{fields}]" if fields else "")
    return f"{type(exc).__name__}: {exc}"


def process_event(
    session: Session, event: InboundEvent, processor: Processor, *, handler: str
) -> None:
    """Run ``processor`` on ``event`` in a savepoint; mark it processed or failed."""
    if event.status == InboundStatus.PROCESSED:
        return
    inbound.begin_attempt(event)
    try:
        with session.begin_nested():
            result = processor(session, event)
    except Exception as exc:  # kept for replay, whatever the cause
        log.warning("inbound event %s (%s) failed: %s", event.id, event.provider, _describe(exc))
        event.handler = handler
        inbound.mark_failed(event, error=_describe(exc))
        return
    inbound.mark_processed(event, result=result)


def _locked(session: Session, event_id: int) -> InboundEvent:
    event = session.scalar(
        select(InboundEvent).where(InboundEvent.id == event_id).with_for_update()
    )
    assert event is not None  # stored by the caller
    return event


def receive(
    engine: Engine,
    *,
    workspace_id: int,
    provider: str,
    kind: str,
    external_id: str,
    body: str,
    processor: Processor,
    handler: str,
    headers: Mapping[str, str] | None = None,
    content_type: str | None = None,
) -> Outcome:
    """Store the request raw (deduplicated by ``external_id``), then process it now."""
    stored = inbound.store_raw(
        engine,
        workspace_id=workspace_id,
        provider=provider,
        kind=kind,
        external_id=external_id,
        body=body,
        headers=headers,
        content_type=content_type,
    )
    with unit_of_work(engine) as session:
        event = _locked(session, stored.event.id)
        if event.status == InboundStatus.RECEIVED:  # new, or its first run never finished
            process_event(session, event, processor, handler=handler)
        outcome = Outcome(event.id, not stored.created, event.status, event.result, event.error)
    return outcome


def replay_handler(processor: Processor, handler: str) -> Callable[[Any, dict[str, Any]], Any]:
    """A job handler that processes the inbound event named in the payload again."""

    def run(ctx: Any, payload: dict[str, Any]) -> dict[str, Any] | None:
        event = _locked(ctx.session, int(payload["event_id"]))
        process_event(ctx.session, event, processor, handler=handler)
        return {"event_id": event.id, "status": event.status.value}

    return run
