"""The job that processes one stored telephony event (see ``integrations.inbound``)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voronka.integrations import inbound
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.integrations.telephony import service
from voronka.integrations.telephony.providers import PROVIDERS
from voronka.jobs import JobContext, job

PROCESS_EVENT = "telephony.process_event"
log = logging.getLogger(__name__)


def _apply_all(session: Session, event: InboundEvent) -> list[int]:
    provider = PROVIDERS[event.provider]
    calls = []
    for call_event in provider.parse(event.kind, event.body, event.received_at):
        call = service.apply(
            session, workspace_id=event.workspace_id, provider=event.provider, event=call_event
        )
        if call is not None:
            calls.append(call.id)
    return calls


def process(session: Session, event: InboundEvent) -> None:
    """Process ``event`` in a savepoint: all of its changes are written, or none and the
    event is marked failed with the error (``voronka hooks replay`` runs it again)."""
    inbound.begin_attempt(event)
    calls: list[int] = []
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                calls = _apply_all(session, event)
            break
        except IntegrityError as exc:
            # Another worker opened the same call (or client) between our read and write;
            # its row is committed now, so one more pass finds it.
            if attempt == 2:
                _failed(event, exc)
                return
        except Exception as exc:  # any failure is recorded on the event
            _failed(event, exc)
            return
    if calls:
        inbound.mark_processed(event, result={"calls": calls})
    else:
        inbound.mark_ignored(event, reason="no call change, or nothing to attach the call to")


def _failed(event: InboundEvent, exc: Exception) -> None:
    log.warning("telephony event %s failed: %s", event.id, type(exc).__name__)
    inbound.mark_failed(event, error=f"{type(exc).__name__}: {exc}")


@job(PROCESS_EVENT)
def process_event(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Process the stored event ``payload["event_id"]`` unless it was processed already."""
    event = inbound.get(ctx.session, int(payload["event_id"]))
    if event is None or event.status is not InboundStatus.RECEIVED:
        return {"skipped": True}
    process(ctx.session, event)
    return {"status": event.status.value}
