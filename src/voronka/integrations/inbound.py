"""The raw inbound log: every webhook, tracker hit or mail is stored here first.

The contract every ingestion path follows (telephony webhooks, the site tracker, lead forms,
IMAP):

1. verify the request (signature, token) and validate the payload enough to know its
   provider event id and kind; refuse a bad request before anything is written;
2. :func:`store_raw` writes the raw body in its **own** short transaction, deduplicated by
   ``(workspace, provider, external_id)``, and enqueues the processing job in that same
   transaction, so the job exists exactly when the row does; a redelivery returns the row
   stored the first time and enqueues nothing;
3. the job loads the event (:func:`get`), does the domain work and calls
   :func:`mark_processed`; on an error it rolls its work back and calls :func:`mark_failed`;
4. ``voronka hooks replay`` (:func:`replay`) puts failed events back in the queue.

Events of a kind the receiver does not handle are stored with status ``ignored`` and
acknowledged, so providers stop retrying them and an operator can still see them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from voronka import clock
from voronka.db.base import Base, IdMixin, WorkspaceMixin
from voronka.db.columns import JsonType, enum_column_type, pd
from voronka.db.session import unit_of_work
from voronka.db.types import UTCDateTime

#: Header names (lower-case) whose values never reach the database.
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key", "sign"}
)
#: Header names containing one of these words are redacted as well.
SECRET_WORDS = ("token", "secret", "signature", "password", "api-key", "apikey")
REDACTED = "[redacted]"
MAX_ERROR_CHARS = 4000


class InboundStatus(StrEnum):
    RECEIVED = "received"  # stored, waiting for (or in) its processing job
    PROCESSED = "processed"
    FAILED = "failed"  # processing raised; the error says why; replayable
    IGNORED = "ignored"  # an event kind nobody processes; acknowledged and kept


class InboundEvent(IdMixin, WorkspaceMixin, Base):
    """One raw request received from a provider, kept as it came (minus secrets).

    ``external_id`` is the provider's id of the event (the idempotency key); ``kind`` is the
    provider's event type (``NOTIFY_START``, ``call``, ``visit``…). ``body`` is the request
    body as text; ``headers`` are the request headers with secrets redacted. ``handler`` is
    the job kind that processes the event (replay queues it again). ``attempts``
    counts processing runs; ``result`` holds what processing produced (ids of rows written).
    """

    __tablename__ = "inbound_event"
    __table_args__ = (
        UniqueConstraint("workspace_id", "provider", "external_id"),
        Index("ix_inbound_event_status", "status", "received_at"),
        Index("ix_inbound_event_received", "workspace_id", "received_at"),
    )

    provider: Mapped[str] = mapped_column(String(32), info=pd("none"))
    kind: Mapped[str] = mapped_column(String(64), info=pd("none"))
    external_id: Mapped[str] = mapped_column(String(200), info=pd("none"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    content_type: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    headers: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict, info=pd("none"))
    body: Mapped[str] = mapped_column(Text, info=pd("personal"))
    status: Mapped[InboundStatus] = mapped_column(
        enum_column_type(InboundStatus, "inbound_status"), info=pd("none")
    )
    error: Mapped[str | None] = mapped_column(Text, info=pd("none"))
    handler: Mapped[str | None] = mapped_column(String(64), info=pd("none"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType, info=pd("none"))


@dataclass(frozen=True)
class Stored:
    """What :func:`store_raw` did: the event row and whether this call created it."""

    event: InboundEvent
    created: bool


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return the headers with lower-case names and secret values replaced."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        secret = key in SECRET_HEADERS or any(word in key for word in SECRET_WORDS)
        out[key] = REDACTED if secret else value
    return out


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(InboundEvent)


def record(
    session: Session,
    *,
    workspace_id: int,
    provider: str,
    kind: str,
    external_id: str,
    body: str,
    headers: Mapping[str, str] | None = None,
    content_type: str | None = None,
    process_with: str | None = None,
    ignored: bool = False,
) -> Stored:
    """Insert the event in the caller's transaction unless it is already stored.

    ``process_with`` names the job kind that processes the event; it is enqueued in the
    same transaction when (and only when) the row is new. ``ignored`` stores an event
    nobody processes. Prefer :func:`store_raw`, which commits at once.
    """
    status = InboundStatus.IGNORED if ignored else InboundStatus.RECEIVED
    values = {
        "workspace_id": workspace_id,
        "provider": provider,
        "kind": kind[:64],
        "external_id": external_id[:200],
        "received_at": clock.now(),
        "content_type": content_type[:200] if content_type else None,
        "headers": redact_headers(headers or {}),
        "body": body,
        "status": status.value,
        "handler": None if ignored else process_with,
        "attempts": 0,
    }
    statement = (
        _insert(session)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["workspace_id", "provider", "external_id"])
        .returning(InboundEvent)
    )
    created = session.scalars(statement).one_or_none()
    event = created or find(
        session, workspace_id=workspace_id, provider=provider, external_id=external_id
    )
    assert event is not None  # inserted now or by the first delivery
    if created is not None and process_with and not ignored:
        _enqueue(session, process_with, event.id, attempt=0)
    return Stored(event, created=created is not None)


def store_raw(engine: Engine, **fields: Any) -> Stored:
    """Store the event in its own transaction (committed on return); see :func:`record`."""
    with unit_of_work(engine) as session:
        return record(session, **fields)


def _enqueue(session: Session, job_kind: str, event_id: int, *, attempt: int) -> None:
    from voronka.jobs import enqueue  # the jobs package imports handler modules, not us

    enqueue(session, job_kind, {"event_id": event_id}, key=f"inbound:{event_id}:{attempt}")


def get(session: Session, event_id: int) -> InboundEvent | None:
    """Return the event with this id."""
    return session.get(InboundEvent, event_id)


def find(
    session: Session, *, workspace_id: int, provider: str, external_id: str
) -> InboundEvent | None:
    """Return the event a provider delivered with this id, if stored."""
    return session.scalars(
        select(InboundEvent).where(
            InboundEvent.workspace_id == workspace_id,
            InboundEvent.provider == provider,
            InboundEvent.external_id == external_id[:200],
        )
    ).one_or_none()


def begin_attempt(event: InboundEvent) -> None:
    """Count one processing run of ``event`` (call in the job, before the work)."""
    event.attempts += 1


def mark_processed(event: InboundEvent, *, result: dict[str, Any] | None = None) -> None:
    """Record that processing succeeded (in the job's transaction, with the work)."""
    event.status = InboundStatus.PROCESSED
    event.error = None
    event.result = result
    event.processed_at = clock.now()


def mark_failed(event: InboundEvent, *, error: str) -> None:
    """Record that processing failed; the work of the attempt must be rolled back."""
    event.status = InboundStatus.FAILED
    event.error = error[:MAX_ERROR_CHARS]
    event.processed_at = clock.now()


def mark_ignored(event: InboundEvent, *, reason: str | None = None) -> None:
    """Record that the event needs no processing (e.g. a kind found unknown on parsing)."""
    event.status = InboundStatus.IGNORED
    event.error = reason
    event.processed_at = clock.now()


def replayable(
    session: Session,
    *,
    provider: str | None = None,
    status: InboundStatus = InboundStatus.FAILED,
    event_id: int | None = None,
) -> Sequence[InboundEvent]:
    """Events matching the filters, oldest first (what ``voronka hooks replay`` takes)."""
    query = select(InboundEvent).where(InboundEvent.status == status)
    if provider is not None:
        query = query.where(InboundEvent.provider == provider)
    if event_id is not None:
        query = query.where(InboundEvent.id == event_id)
    return session.scalars(query.order_by(InboundEvent.id)).all()


def replay(session: Session, events: Sequence[InboundEvent]) -> int:
    """Queue the events again with their handler job; return how many were queued.

    Events without a handler (ignored on receipt) are left alone. A queued event goes back
    to ``received`` and keeps its attempt count.
    """
    queued = 0
    for event in events:
        if event.handler is None:
            continue
        event.status = InboundStatus.RECEIVED
        event.error = None
        event.processed_at = None
        session.flush()
        _enqueue(session, event.handler, event.id, attempt=event.attempts)
        queued += 1
    return queued
