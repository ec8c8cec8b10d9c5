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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Engine,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
    text,
)
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


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """The stored row of an event as it was when stored (a plain copy, not bound to a
    session: building ORM objects cost a large share of a webhook's time)."""

    id: int
    workspace_id: int
    provider: str
    kind: str
    external_id: str
    received_at: datetime
    body: str
    status: InboundStatus
    handler: str | None
    headers: dict[str, str]
    content_type: str | None

    @classmethod
    def of(cls, event: InboundEvent) -> StoredEvent:
        return cls(
            event.id,
            event.workspace_id,
            event.provider,
            event.kind,
            event.external_id,
            event.received_at,
            event.body,
            event.status,
            event.handler,
            event.headers,
            event.content_type,
        )


@dataclass(frozen=True)
class Stored:
    """What :func:`store_raw` did: the event row and whether this call created it."""

    event: StoredEvent
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


def _values(
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
) -> dict[str, Any]:
    """The ``inbound_event`` row of one delivery (the arguments of :func:`record`)."""
    status = InboundStatus.IGNORED if ignored else InboundStatus.RECEIVED
    return {
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


def _key(values: Mapping[str, Any]) -> tuple[int, str, str]:
    return values["workspace_id"], values["provider"], values["external_id"]


def record(session: Session, **fields: Any) -> Stored:
    """Insert the event in the caller's transaction unless it is already stored.

    Fields: ``workspace_id``, ``provider``, ``kind``, ``external_id``, ``body``, optional
    ``headers``, ``content_type``; ``process_with`` names the job kind that processes the
    event: it is enqueued in the same transaction when (and only when) the row is new;
    ``ignored=True`` stores an event nobody processes. Prefer :func:`store_raw`, which
    commits at once, or :func:`record_many` for several events.
    """
    return record_many(session, [fields])[0]


def record_many(session: Session, deliveries: Sequence[Mapping[str, Any]]) -> list[Stored]:
    """Insert many events (each the fields of :func:`record`) in the caller's transaction.

    Round trips do not grow with the batch: on PostgreSQL one statement inserts the events
    and the new ones' jobs, elsewhere one multi-row ``INSERT … ON CONFLICT DO NOTHING …
    RETURNING`` for the events and one for their jobs; plus one ``SELECT`` for the
    redeliveries among them (if any). A key given twice in one batch is stored once; the
    later delivery is answered as a duplicate, as it would be one request later.
    """
    rows = [_values(**fields) for fields in deliveries]
    first: dict[tuple[int, str, str], dict[str, Any]] = {}
    for row in rows:
        first.setdefault(_key(row), row)
    unique = list(first.values())
    if session.get_bind().dialect.name == "postgresql":
        new_ids = _insert_with_jobs_postgresql(session, unique)
    else:
        new_ids = _insert_rows(session, unique)
        _enqueue_new(session, [first[key] | {"id": i} for key, i in new_ids.items()])
    events = {key: _transient(first[key], event_id) for key, event_id in new_ids.items()}
    events.update(_stored_before(session, [key for key in first if key not in new_ids]))
    out = []
    answered: set[tuple[int, str, str]] = set()
    for row in rows:
        key = _key(row)
        created = key in new_ids and key not in answered
        answered.add(key)
        out.append(Stored(events[key], created=created))
    return out


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, str, str], int]:
    """Insert the rows (keys already stored are skipped); return the new ids by key."""
    # executed with a list of rows: SQLAlchemy sends one multi-row INSERT ("insertmanyvalues")
    # from a statement compiled once and cached, whatever the batch size
    statement = (
        _insert(session)
        .on_conflict_do_nothing(index_elements=["workspace_id", "provider", "external_id"])
        .returning(
            InboundEvent.id,
            InboundEvent.workspace_id,
            InboundEvent.provider,
            InboundEvent.external_id,
        )
    )
    return {(w, p, e): i for i, w, p, e in session.execute(statement, rows)}


#: One round trip for a whole batch on PostgreSQL: the rows travel as one array per column
#: (the statement text stays the same whatever the batch size, so it is parsed and planned
#: once per connection), and the new rows' jobs are inserted from the RETURNING of the first
#: insert. Jobs follow ``jobs.queue.enqueue``: key ``inbound:<id>:0``, payload {event_id}.
_PG_INSERT_WITH_JOBS = text("""
WITH new AS (
    INSERT INTO inbound_event (workspace_id, provider, kind, external_id, received_at,
                               content_type, headers, body, status, handler, attempts)
    SELECT w, p, k, e, r, c, CAST(h AS jsonb), b, s, hd, 0
    FROM unnest(CAST(:w AS bigint[]), CAST(:p AS text[]), CAST(:k AS text[]),
                CAST(:e AS text[]), CAST(:r AS timestamptz[]), CAST(:c AS text[]),
                CAST(:h AS text[]), CAST(:b AS text[]), CAST(:s AS text[]),
                CAST(:hd AS text[]), CAST(:ma AS integer[])) AS t(w, p, k, e, r, c, h, b, s, hd, ma)
    ON CONFLICT (workspace_id, provider, external_id) DO NOTHING
    RETURNING id, workspace_id, provider, external_id, handler, status, received_at
), jobs AS (
    INSERT INTO job (kind, key, payload, status, attempts, max_attempts, created_at,
                     run_after, progress_done)
    SELECT new.handler, 'inbound:' || new.id || '\\:0', jsonb_build_object('event_id', new.id),
           'queued', 0, t.ma, new.received_at, new.received_at, 0
    FROM new JOIN unnest(CAST(:e AS text[]), CAST(:ma AS integer[])) AS t(e, ma)
      ON t.e = new.external_id
    WHERE new.handler IS NOT NULL AND new.status = 'received'
    ON CONFLICT (key) DO NOTHING
)
SELECT id, workspace_id, provider, external_id FROM new
""")


def _insert_with_jobs_postgresql(
    session: Session, rows: list[dict[str, Any]]
) -> dict[tuple[int, str, str], int]:
    from voronka.jobs.registry import kind as job_kind  # the jobs package imports handlers

    limits: dict[str | None, int | None] = {None: None}
    for handler in {row["handler"] for row in rows} - {None}:
        registered = job_kind(handler)
        if registered is None:
            raise ValueError(f"no job kind {handler!r}")
        limits[handler] = registered.max_attempts

    columns = {
        "w": "workspace_id",
        "p": "provider",
        "k": "kind",
        "e": "external_id",
        "r": "received_at",
        "c": "content_type",
        "b": "body",
        "s": "status",
        "hd": "handler",
    }
    params: dict[str, list[Any]] = {
        name: [row[col] for row in rows] for name, col in columns.items()
    }
    params["h"] = [json.dumps(row["headers"]) for row in rows]
    params["ma"] = [limits[row["handler"]] for row in rows]
    # one provider and workspace per batch in practice; the join above is on external_id, so
    # a batch mixing them must not repeat an external_id across providers
    if len({row["external_id"] for row in rows}) != len(rows):
        return _insert_rows_then_jobs(session, rows)
    return {(w, p, e): i for i, w, p, e in session.execute(_PG_INSERT_WITH_JOBS, params)}


def _insert_rows_then_jobs(
    session: Session, rows: list[dict[str, Any]]
) -> dict[tuple[int, str, str], int]:
    new_ids = _insert_rows(session, rows)
    by_key = {_key(row): row for row in rows}
    _enqueue_new(session, [by_key[key] | {"id": i} for key, i in new_ids.items()])
    return new_ids


def _transient(values: Mapping[str, Any], event_id: int) -> StoredEvent:
    """The row just inserted (no read back)."""
    return StoredEvent(
        event_id,
        values["workspace_id"],
        values["provider"],
        values["kind"],
        values["external_id"],
        values["received_at"],
        values["body"],
        InboundStatus(values["status"]),
        values["handler"],
        values["headers"],
        values["content_type"],
    )


def _stored_before(
    session: Session, keys: Sequence[tuple[int, str, str]]
) -> dict[tuple[int, str, str], StoredEvent]:
    if not keys:
        return {}
    candidates = session.scalars(
        select(InboundEvent).where(InboundEvent.external_id.in_({k[2] for k in keys}))
    )
    wanted = set(keys)
    found = {(e.workspace_id, e.provider, e.external_id): e for e in candidates}
    return {key: StoredEvent.of(event) for key, event in found.items() if key in wanted}


def _enqueue_new(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    from voronka.jobs.queue import enqueue_many  # the jobs package imports handler modules

    by_kind: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for row in rows:
        if row["handler"] and row["status"] == InboundStatus.RECEIVED.value:
            item = ({"event_id": row["id"]}, f"inbound:{row['id']}:0")
            by_kind.setdefault(row["handler"], []).append(item)
    for job_kind, items in by_kind.items():
        enqueue_many(session, job_kind, items)


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


#: Statuses whose events are done with and may be deleted once old (never failed or received).
PURGEABLE = (InboundStatus.PROCESSED, InboundStatus.IGNORED)


def purge(session: Session, *, received_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` processed or ignored events received before the cutoff, oldest
    first; return how many. Failed and unprocessed events are never touched."""
    oldest = (
        select(InboundEvent.id)
        .where(InboundEvent.status.in_(PURGEABLE), InboundEvent.received_at < received_before)
        .order_by(InboundEvent.received_at, InboundEvent.id)
        .limit(limit)
    )
    ids = list(session.scalars(oldest))
    if ids:
        session.execute(delete(InboundEvent).where(InboundEvent.id.in_(ids)))
    return len(ids)
