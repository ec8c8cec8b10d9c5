"""The job that processes stored telephony events (see ``integrations.inbound``), in batches.

Each stored event has its own ``telephony.process_event`` job. A job that runs takes up to
``BATCH_SIZE - 1`` other queued jobs of the same kind (``jobs.queue.take_queued``) and
processes all their events in its one transaction: the reads of the batch are asked once
(``telephony.lookups``), and the jobs taken over are marked done with the work. If the
transaction fails as a whole, nothing is kept and the jobs taken over are still queued.

The events are first applied in bulk, in one savepoint: every row is checked against the
rules as ``service.apply`` hands it over and kept in memory, then each table gets one
multi-row insert (``telephony.batch``); an event whose body cannot be parsed is marked
failed there and the others go on. When anything else goes wrong (a rule refuses a row, a
write fails, another worker stored the same call first), that savepoint is rolled back and
the events are applied again one at a time, each in a savepoint of its own: a failing event
is marked failed with its error, the others go on, and nothing of the failing one is kept.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voronka.config import get_settings
from voronka.integrations import inbound
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.integrations.telephony import batch, service
from voronka.integrations.telephony.base import CallEvent
from voronka.integrations.telephony.lookups import Lookups, lock_phones
from voronka.integrations.telephony.providers import PROVIDERS
from voronka.jobs import JobContext, job
from voronka.jobs import queue as job_queue

PROCESS_EVENT = "telephony.process_event"
#: Most events one job run processes (its own and those of the jobs it takes over).
BATCH_SIZE = 100
log = logging.getLogger(__name__)


def _parse(event: InboundEvent) -> list[CallEvent] | Exception:
    try:
        return PROVIDERS[event.provider].parse(event.kind, event.body, event.received_at)
    except Exception as exc:  # recorded on the event when it is applied
        return exc


def _apply_all(
    session: Session, event: InboundEvent, parsed: list[CallEvent] | Exception, look: Lookups
) -> list[int]:
    if isinstance(parsed, Exception):
        raise parsed
    calls = []
    for call_event in parsed:
        call = service.apply(
            session,
            workspace_id=event.workspace_id,
            provider=event.provider,
            event=call_event,
            lookups=look,
        )
        if call is not None:
            calls.append(call.id)
    return calls


def process(session: Session, event: InboundEvent) -> None:
    """Process one event in a savepoint (see :func:`process_batch`)."""
    process_batch(session, [event])


def process_batch(session: Session, events: list[InboundEvent], *, bulk: bool = True) -> None:
    """Process ``events`` in order: all of an event's changes are written, or none and the
    event is marked failed with the error (``voronka hooks replay`` runs it again). In bulk
    first (see the module's docstring), unless ``bulk`` is false."""
    parsed = [(event, _parse(event)) for event in events]
    for workspace_id in sorted({event.workspace_id for event in events}):
        mine = [(e, p) for e, p in parsed if e.workspace_id == workspace_id]
        look = _prefetched(session, workspace_id, mine)
        if bulk and _process_in_bulk(session, mine, look):
            continue
        if bulk:  # the bulk savepoint's rows are gone: ask the store again
            look = _prefetched(session, workspace_id, mine)
        for event, calls in mine:
            if not _process_one(session, event, calls, look):
                # the savepoint's rows are gone: answers kept from it are not to be trusted
                look = Lookups(session, workspace_id)


def _prefetched(
    session: Session, workspace_id: int, parsed: list[tuple[InboundEvent, Any]]
) -> Lookups:
    call_events = [(e.provider, c) for e, p in parsed if not isinstance(p, Exception) for c in p]
    numbers = {n for _, c in call_events if (n := service.phone_or_none(c.client_number))}
    tracking = {n for _, c in call_events if (n := service.phone_or_none(c.tracking_number))}
    started: list[datetime] = [
        c.started_at or c.answered_at or c.occurred_at for _, c in call_events
    ]
    # lock the callers' numbers first, so the reads below see what another worker committed
    lock_phones(session, workspace_id, numbers)
    look = Lookups(session, workspace_id)
    look.prefetch(
        provider_calls={(p, c.call_id[:128]) for p, c in call_events},
        numbers=numbers,
        tracking=tracking,
        started=started,
        unique_days=get_settings().call_unique_days,
    )
    return look


def _process_in_bulk(
    session: Session, parsed: list[tuple[InboundEvent, Any]], look: Lookups
) -> bool:
    """Apply the events with one write per table in one savepoint; False when it was rolled
    back (nothing of it kept) and the events are to be applied one at a time."""
    writes = batch.Deferred(session, look)
    look.writes = writes
    try:
        with session.begin_nested():
            writes.prepare(look)
            for event, calls in parsed:
                inbound.begin_attempt(event)
                if isinstance(calls, Exception):
                    _failed(event, calls)
                else:
                    _done(event, _apply_all(session, event, calls, look))
            writes.write()
    except Exception as exc:  # any failure: the events go one at a time, each with its error
        log.info("telephony batch of %s events applied one by one: %s", len(parsed), exc)
        session.expire_all()  # rows the batch changed in memory are read again
        return False
    return True


def _done(event: InboundEvent, calls: list[int]) -> None:
    if calls:
        inbound.mark_processed(event, result={"calls": calls})
    else:
        inbound.mark_ignored(event, reason="no call change, or nothing to attach the call to")


def _process_one(
    session: Session, event: InboundEvent, parsed: list[CallEvent] | Exception, look: Lookups
) -> bool:
    """Apply one event in a savepoint; False when its work was rolled back."""
    inbound.begin_attempt(event)
    calls: list[int] = []
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                calls = _apply_all(session, event, parsed, look)
            break
        except IntegrityError as exc:
            # Another worker opened the same call between our read and write; its row is
            # committed now, so one more pass (asking the store, not the batch) finds it.
            look = Lookups(session, event.workspace_id)
            if attempt == 2:
                _failed(event, exc)
                return False
        except Exception as exc:  # any failure is recorded on the event
            _failed(event, exc)
            return False
    _done(event, calls)
    return True


def _failed(event: InboundEvent, exc: Exception) -> None:
    log.warning("telephony event %s failed: %s", event.id, type(exc).__name__)
    inbound.mark_failed(event, error=f"{type(exc).__name__}: {exc}")


@job(PROCESS_EVENT)
def process_event(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Process the stored event ``payload["event_id"]`` and those of up to ``BATCH_SIZE - 1``
    other queued jobs of this kind, skipping events processed already."""
    others = job_queue.take_queued(ctx.session, PROCESS_EVENT, limit=BATCH_SIZE - 1)
    ids = {int(payload["event_id"])} | {int(j.payload["event_id"]) for j in others}
    events = list(
        ctx.session.scalars(
            select(InboundEvent)
            .where(InboundEvent.id.in_(ids), InboundEvent.status == InboundStatus.RECEIVED)
            .order_by(InboundEvent.id)
        )
    )
    taken = [j.id for j in others]  # read before processing: a rolled-back savepoint expires rows
    process_batch(ctx.session, events)
    job_queue.finish_many(ctx.session, taken, {"batched_with": ctx.job_id})
    return {
        "events": len(events),
        "jobs_taken": len(others),
        "failed": sum(e.status is InboundStatus.FAILED for e in events),
    }
