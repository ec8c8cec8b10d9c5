"""Clients (people and companies) and companies with their contact persons.

Both files have the client import's columns, companies first: the contact persons of a
company find it by name when the file is imported back. Several phones (or e-mails) share one
cell, primary first; tags are one cell too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.campaign.models import Channel
from voronka.client import repository as client_repository
from voronka.client.models import Client, ClientKind, ClientTag, ContactKind
from voronka.transfer.exports import stream
from voronka.transfer.exports.spec import ExportEntity, ExportFilter, ExportSpec, FilterName
from voronka.user.models import User

COLUMNS: tuple[str, ...] = (
    *("id", "name", "kind", "phone", "email", "company", "job_title", "tags"),
    *("owner", "source", "created_at"),
)
FILTERS = frozenset({FilterName.OWNER, FilterName.PERIOD})


def _visible(actor: Actor, scope: Scope) -> Any:
    """The client repository's own scope condition (workspace, live, owner scope)."""
    return stream.condition(client_repository.visible_to(actor, scope))


def _selected(actor: Actor, scope: Scope, f: ExportFilter, kind: ClientKind) -> stream.Query:
    """Ids of the clients of one kind the filter picks (one pass)."""
    query = select(Client.id).select_from(Client).where(_visible(actor, scope), Client.kind == kind)
    return stream.narrowed(query, f, date=Client.created_at, owner=Client.owner_id)


def _with_columns(query: stream.Query) -> stream.Query:
    """``query`` (over ``Client``) giving the export's columns, in id order."""
    owner, company, channel = aliased(User), aliased(Client), aliased(Channel)
    return (
        query.with_only_columns(
            Client.id,
            Client.name,
            Client.kind,
            company.name,
            Client.job_title,
            owner.email,
            channel.slug,
            Client.created_at,
        )
        .select_from(Client)
        .outerjoin(company, company.id == Client.company_id)
        .outerjoin(owner, owner.id == Client.owner_id)
        .outerjoin(channel, channel.id == Client.source_channel_id)
        .order_by(Client.id)
    )


def _emit(session: Session, query: stream.Query) -> Iterator[tuple[Any, ...]]:
    for page in stream.pages(session, query):
        ids = [row[0] for row in page]
        contacts = stream.contacts_of(session, ids)
        tags = _tags_of(session, ids)
        for client_id, name, kind, company, job, owner, source, created in page:
            held = contacts.get(client_id, {})
            yield (
                client_id,
                name,
                ClientKind(kind).value,
                ", ".join(held.get(ContactKind.PHONE, ())) or None,
                ", ".join(held.get(ContactKind.EMAIL, ())) or None,
                company,
                job,
                ", ".join(tags.get(client_id, ())) or None,
                owner,
                source,
                created,
            )


def _tags_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    query = (
        select(ClientTag.client_id, ClientTag.tag)
        .where(stream.among(session, ClientTag.client_id, ids))
        .order_by(ClientTag.client_id, ClientTag.tag)
    )
    for client_id, tag in session.connection().execute(query).all():
        found.setdefault(client_id, []).append(tag)
    return found


def client_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    for kind in (ClientKind.COMPANY, ClientKind.PERSON):
        yield from _emit(session, _with_columns(_selected(actor, scope, f, kind)))


def client_count(session: Session, actor: Actor, scope: Scope, f: ExportFilter) -> int:
    return sum(stream.count(session, _selected(actor, scope, f, k)) for k in ClientKind)


def _persons_of(actor: Actor, scope: Scope, f: ExportFilter) -> stream.Query:
    """The visible contact persons of the companies the filter picks."""
    return select(Client.id).where(
        _visible(actor, scope),
        Client.kind == ClientKind.PERSON,
        # correlate(None): the subquery reads its own ``client``, not the outer row
        Client.company_id.in_(_selected(actor, scope, f, ClientKind.COMPANY).correlate(None)),
    )


def company_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    yield from _emit(session, _with_columns(_selected(actor, scope, f, ClientKind.COMPANY)))
    yield from _emit(session, _with_columns(_persons_of(actor, scope, f)))


def company_count(session: Session, actor: Actor, scope: Scope, f: ExportFilter) -> int:
    companies = stream.count(session, _selected(actor, scope, f, ClientKind.COMPANY))
    return companies + stream.count(session, _persons_of(actor, scope, f))


CLIENTS = ExportSpec(
    entity=ExportEntity.CLIENTS,
    resource="client",
    columns=COLUMNS,
    filters=FILTERS,
    date_column="created_at",
    rows=client_rows,
    count=client_count,
)
COMPANIES = ExportSpec(
    entity=ExportEntity.COMPANIES,
    resource="client",
    columns=COLUMNS,
    filters=FILTERS,
    date_column="created_at (of the company)",
    rows=company_rows,
    count=company_count,
)
