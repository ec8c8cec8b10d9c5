"""Reading an export's rows a page at a time, and the narrowing every export shares.

One query per export (per pass), read through a server-side cursor on PostgreSQL (SQLite's
cursor is lazy anyway) in pages of ``PAGE`` rows: memory stays flat however many rows there
are, and the per-page look-ups (contacts, tags) take one query per page, not one per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Row, Select, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from voronka.client.models import ContactKind, ContactPoint
from voronka.config import get_settings
from voronka.transfer.exports.spec import ExportFilter

PAGE = 2000
#: a select of any columns (SQLAlchemy 2.1 types a select by its column tuple)
Query = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]


def pages(session: Session, query: Query) -> Iterator[Sequence[AnyRow]]:
    """The query's rows in pages, streamed (Core rows: no ORM objects are built)."""
    result = session.connection().execute(query.execution_options(yield_per=PAGE))
    try:
        yield from result.partitions()
    finally:
        result.close()


def count(session: Session, query: Query) -> int:
    """How many rows ``query`` gives."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return session.scalar(counted) or 0


def aware(moment: datetime) -> datetime:
    """A bound without an offset (``2026-01-01``) is in the workspace's time zone."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(get_settings().timezone))


def condition(query: Select[Any]) -> ColumnElement[bool]:
    """The WHERE clause of a repository's ``visible_to`` select (its scope condition)."""
    clause = query.whereclause
    assert clause is not None, "a visible_to select always has its conditions"
    return clause


def narrowed(
    query: Query,
    f: ExportFilter,
    *,
    date: ColumnElement[Any] | Any,
    owner: ColumnElement[Any] | Any = None,
    pipeline: ColumnElement[Any] | Any = None,
    status: ColumnElement[Any] | Any = None,
    kind: ColumnElement[Any] | Any = None,
) -> Query:
    """``query`` with the filter's conditions on the given columns (checked beforehand:
    a filter the export does not take never reaches here)."""
    if f.date_from is not None:
        query = query.where(date >= aware(f.date_from))
    if f.date_to is not None:
        query = query.where(date < aware(f.date_to))
    for column, value in (
        (owner, f.owner_id),
        (pipeline, f.pipeline_id),
        (status, f.status),
        (kind, f.kind),
    ):
        if value is not None and column is not None:
            query = query.where(column == value)
    return query


def among(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids`` for a page's look-up. On PostgreSQL one array parameter
    (``= ANY(:ids)``): the same statement text every page, where an IN list of 2,000
    placeholders costs the driver more to parse than the query takes to run."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(BigInteger())))
    return column.in_(list(ids))


def contacts_of(
    session: Session, client_ids: Sequence[int]
) -> dict[int, dict[ContactKind, list[str]]]:
    """Every phone and e-mail of the clients, primary first, in one query."""
    found: dict[int, dict[ContactKind, list[str]]] = {}
    if not client_ids:
        return found
    query = (
        select(ContactPoint.client_id, ContactPoint.kind, ContactPoint.value)
        .where(among(session, ContactPoint.client_id, sorted(set(client_ids))))
        .order_by(ContactPoint.client_id, ContactPoint.is_primary.desc(), ContactPoint.id)
    )
    for client_id, kind, value in session.connection().execute(query).all():
        found.setdefault(client_id, {}).setdefault(ContactKind(kind), []).append(value)
    return found


def first_contact(
    contacts: dict[int, dict[ContactKind, list[str]]], client_id: int | None, kind: ContactKind
) -> str | None:
    """The client's primary (else first) phone or e-mail."""
    values = contacts.get(client_id, {}).get(kind) if client_id is not None else None
    return values[0] if values else None
