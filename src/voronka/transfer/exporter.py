"""Export the clients or deals an actor may see, streamed, and audit every export.

Rows come from the domain repositories' ``visible_to`` (the EXPORT scope) and are fetched
with ``yield_per``, so memory stays flat however many rows there are. The column names are
the import field names, so an exported file imports back unchanged.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.audit import service as audit
from voronka.campaign.models import Channel
from voronka.client import repository as client_repository
from voronka.client.models import Client, ClientKind, ContactKind, ContactPoint
from voronka.config import get_settings
from voronka.deal import repository as deal_repository
from voronka.deal.models import Deal
from voronka.pipeline.models import Pipeline, Stage
from voronka.transfer.mapping import Entity
from voronka.transfer.reading import FileFormat
from voronka.transfer.writing import csv_chunks, write_xlsx
from voronka.user.models import User

YIELD_PER = 500
CHUNK_BYTES = 256 * 1024
CLIENT_COLUMNS: tuple[str, ...] = (
    *("id", "name", "kind", "phone", "email", "company", "job_title", "tags"),
    *("owner", "source", "created_at"),
)
DEAL_COLUMNS: tuple[str, ...] = (
    *("id", "title", "client_id", "client_name", "phone", "email", "pipeline", "stage"),
    *("status", "amount", "currency", "owner", "source", "created_at", "closed_at"),
    "lost_reason",
)
COLUMNS = {Entity.CLIENTS: CLIENT_COLUMNS, Entity.DEALS: DEAL_COLUMNS}
MEDIA_TYPES = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFilter:
    """Optional narrowing of an export (recorded in the audit event as given)."""

    owner_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None

    def as_audit(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v is not None}


def count(
    session: Session, *, actor: Actor, scope: Scope, entity: Entity, export_filter: ExportFilter
) -> int:
    """How many rows an export with these arguments gives."""
    query = _base_query(actor, scope, entity, export_filter)
    return session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0


def rows(
    session: Session, *, actor: Actor, scope: Scope, entity: Entity, export_filter: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    """The export's rows in ``COLUMNS[entity]`` order, fetched ``YIELD_PER`` at a time."""
    if entity is Entity.CLIENTS:
        return _client_rows(session, actor, scope, export_filter)
    return _deal_rows(session, actor, scope, export_filter)


def write(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    entity: Entity,
    file_format: FileFormat,
    target: BinaryIO,
    export_filter: ExportFilter | None = None,
) -> int:
    """Write the export to ``target``; return the number of data rows written."""
    written = 0

    def counted() -> Iterator[tuple[Any, ...]]:
        nonlocal written
        for row in rows(
            session,
            actor=actor,
            scope=scope,
            entity=entity,
            export_filter=export_filter or ExportFilter(),
        ):
            written += 1
            yield row

    zone = ZoneInfo(get_settings().timezone)
    if file_format is FileFormat.CSV:
        for chunk in csv_chunks(COLUMNS[entity], counted(), zone):
            target.write(chunk)
    else:
        write_xlsx(COLUMNS[entity], counted(), target, zone, entity.value)
    return written


def chunks(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    entity: Entity,
    file_format: FileFormat,
    export_filter: ExportFilter,
) -> Iterator[bytes]:
    """The export file in chunks, for streaming: CSV as it is written; XLSX (a zip, whose
    directory comes last) written to a temporary file first, then read back."""
    if file_format is FileFormat.CSV:
        zone = ZoneInfo(get_settings().timezone)
        found = rows(session, actor=actor, scope=scope, entity=entity, export_filter=export_filter)
        yield from csv_chunks(COLUMNS[entity], found, zone)
        return
    with tempfile.TemporaryFile(prefix="voronka-export-") as spool:
        write(
            session,
            actor=actor,
            scope=scope,
            entity=entity,
            file_format=file_format,
            target=spool,
            export_filter=export_filter,
        )
        spool.seek(0)
        while data := spool.read(CHUNK_BYTES):
            yield data


def record(
    session: Session,
    *,
    actor: Actor,
    entity: Entity,
    file_format: FileFormat,
    row_count: int,
    export_filter: ExportFilter,
) -> None:
    """Audit one export: who, when, format, filter and row count — no personal values."""
    audit.record(
        session,
        actor,
        action="export",
        entity="client" if entity is Entity.CLIENTS else "deal",
        row_count=row_count,
        detail={"format": file_format.value, "filter": export_filter.as_audit()},
    )


def _base_query(actor: Actor, scope: Scope, entity: Entity, f: ExportFilter) -> Select[Any]:
    model: Any = Client if entity is Entity.CLIENTS else Deal
    query: Select[Any] = (
        client_repository.visible_to(actor, scope)
        if entity is Entity.CLIENTS
        else deal_repository.visible_to(actor, scope)
    )
    if f.owner_id is not None:
        query = query.where(model.owner_id == f.owner_id)
    if f.created_from is not None:
        query = query.where(model.created_at >= _aware(f.created_from))
    if f.created_to is not None:
        query = query.where(model.created_at < _aware(f.created_to))
    return query


def _aware(moment: datetime) -> datetime:
    """A bound without an offset (``2026-01-01``) is in the company's time zone."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(get_settings().timezone))


def _client_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    owner, company, channel = aliased(User), aliased(Client), aliased(Channel)
    query = (
        _base_query(actor, scope, Entity.CLIENTS, f)
        .add_columns(company.name, owner.email, channel.slug)
        .outerjoin(company, company.id == Client.company_id)
        .outerjoin(owner, owner.id == Client.owner_id)
        .outerjoin(channel, channel.id == Client.source_channel_id)
        # companies first, so that their contact persons find them on re-import
        .order_by(case((Client.kind == ClientKind.COMPANY, 0), else_=1), Client.id)
        .execution_options(yield_per=YIELD_PER)
    )
    for client, company_name, owner_email, channel_slug in session.execute(query):
        yield (
            client.id,
            client.name,
            client.kind.value,
            _joined(client.contacts, ContactKind.PHONE),
            _joined(client.contacts, ContactKind.EMAIL),
            company_name,
            client.job_title,
            ", ".join(t.tag for t in client.tags) or None,
            owner_email,
            channel_slug,
            client.created_at,
        )


def _joined(contacts: Sequence[ContactPoint], kind: ContactKind) -> str | None:
    """The client's phones (or e-mails), primary first, in one cell."""
    chosen = sorted((c for c in contacts if c.kind is kind), key=lambda c: (not c.is_primary, c.id))
    return ", ".join(c.value for c in chosen) or None


def _deal_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    owner, channel = aliased(User), aliased(Channel)
    columns = (
        Deal.id,
        Deal.title,
        Deal.client_id,
        Client.name,
        _first_contact(ContactKind.PHONE),
        _first_contact(ContactKind.EMAIL),
        Pipeline.name,
        Stage.name,
        Deal.status,
        Deal.amount,
        Deal.currency,
        owner.email,
        channel.slug,
        Deal.created_at,
        Deal.closed_at,
        Deal.lost_reason,
    )
    query = (
        _base_query(actor, scope, Entity.DEALS, f)
        .with_only_columns(*columns)
        .select_from(Deal)
        .join(Client, Client.id == Deal.client_id)
        .join(Pipeline, Pipeline.id == Deal.pipeline_id)
        .join(Stage, Stage.id == Deal.stage_id)
        .outerjoin(owner, owner.id == Deal.owner_id)
        .outerjoin(channel, channel.id == Deal.channel_id)
        .order_by(Deal.id)
        .execution_options(yield_per=YIELD_PER)
    )
    for row in session.execute(query):
        values = list(row)
        values[8] = values[8].value  # status
        yield tuple(values)


def _first_contact(kind: ContactKind) -> Any:
    """The client's primary (else first) phone or e-mail, as a correlated subquery."""
    return (
        select(ContactPoint.value)
        .where(ContactPoint.client_id == Deal.client_id, ContactPoint.kind == kind)
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        .limit(1)
        .scalar_subquery()
    )
