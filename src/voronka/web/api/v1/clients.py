"""Clients: list and search, card, timeline, duplicates and merge, consent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from voronka import clock
from voronka.access.policy import Action
from voronka.access.scope import owner_in_scope
from voronka.audit import service as audit
from voronka.client import merge as merge_service
from voronka.client import repository
from voronka.client import service as client_service
from voronka.client.contact import normalize_or_invalid
from voronka.client.models import Client, ClientKind, ConsentRecord, ContactKind
from voronka.client.schemas import (
    ClientCreate,
    ClientOut,
    ClientUpdate,
    ConsentIn,
    ConsentOut,
    ConsentStatus,
    DuplicateGroup,
    MergeIn,
    Timeline,
)
from voronka.client.timeline import timeline as build_timeline
from voronka.config import get_settings
from voronka.errors import ErrorDetail, Forbidden, NotFound
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, SortParam, apply_sort, fetch_page, like_pattern

router = APIRouter(tags=["clients"])
Read = Annotated[Grant, grant("client", Action.READ)]
NOT_FOUND = {404: {"description": "No such client visible to you"}}
WRITE_ERRORS = {
    **NOT_FOUND,
    409: {"description": "Duplicate contact"},
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}
SORTABLE = {
    "name": Client.name,
    "created_at": Client.created_at,
    "updated_at": Client.updated_at,
    "id": Client.id,
}


def visible_client(session: DbSession, g: Grant, client_id: int) -> Client:
    """The client if the grant's scope covers it; otherwise 404 as for a missing id."""
    client = repository.get_visible(session, g.actor, g.scope, client_id)
    if client is None:
        raise NotFound("no such client")
    return client


def _out(client: Client) -> ClientOut:
    return ClientOut.model_validate(
        {
            **{c: getattr(client, c) for c in ClientOut.model_fields if c != "tags"},
            "tags": [t.tag for t in client.tags],
        }
    )


def _contact_filter(phone: str | None, email: str | None) -> tuple[ContactKind, str] | None:
    region = get_settings().default_phone_region
    if phone:
        return ContactKind.PHONE, normalize_or_invalid(
            ContactKind.PHONE, phone, field="phone", region=region
        )
    if email:
        return ContactKind.EMAIL, normalize_or_invalid(ContactKind.EMAIL, email, field="email")
    return None


@router.get(
    "/clients",
    response_model=Page[ClientOut],
    summary="List and search clients",
    responses={
        400: {"description": "Unknown sort field"},
        403: {"description": "Filter outside your scope"},
    },
)
def list_clients(
    session: DbSession,
    g: Read,
    paging: Paging,
    sort: SortParam = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Search name, phone, e-mail, tag")
    ] = None,
    kind: ClientKind | None = None,
    owner_id: int | None = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    company_id: int | None = None,
    source_channel_id: int | None = None,
    created_from: AwareDatetime | None = None,
    created_to: AwareDatetime | None = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> Page[ClientOut]:
    if owner_id is not None and not owner_in_scope(session, g.actor, g.scope, owner_id):
        raise Forbidden(
            "you may not filter by that owner",
            [ErrorDetail("outside your scope", field="owner_id")],
        )
    query = repository.filtered(
        repository.visible_to(g.actor, g.scope),
        like=like_pattern(q.casefold()) if q else None,
        kind=kind,
        owner_id=owner_id,
        tag=tag,
        company_id=company_id,
        source_channel_id=source_channel_id,
        created_from=created_from,
        created_to=created_to,
        contact=_contact_filter(phone, email),
    )
    query = apply_sort(query, sort, SORTABLE, [Client.created_at.desc()], Client.id)
    rows, total = fetch_page(session, query, paging)
    filters = {
        k: v
        for k, v in {
            "q": q,
            "owner_id": owner_id,
            "tag": tag,
            "kind": kind,
            "company_id": company_id,
        }.items()
        if v is not None
    }
    audit.record(
        session,
        g.actor,
        action="list",
        entity="client",
        row_count=len(rows),
        detail={"filter": {k: str(v) for k, v in filters.items()}, "page": paging.page},
    )
    return Page(
        items=[_out(c) for c in rows], total=total, page=paging.page, page_size=paging.page_size
    )


@router.post(
    "/clients",
    response_model=ClientOut,
    status_code=201,
    summary="Create a client",
    responses={
        403: {"description": "Owner outside your scope"},
        409: {"description": "Duplicate phone or e-mail"},
    },
)
def create_client(
    body: ClientCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("client", Action.CREATE)],
    allow_duplicate: bool = False,
) -> ClientOut:
    client = client_service.create(
        session, actor=g.actor, scope=g.scope, data=body, allow_duplicate=allow_duplicate
    )
    set_etag(response, client.id, client.version)
    return _out(client)


@router.get(
    "/clients/duplicates",
    response_model=list[DuplicateGroup],
    summary="Contact values shared by several clients you can see",
)
def duplicates(
    session: DbSession,
    g: Annotated[Grant, grant("client", Action.MERGE)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DuplicateGroup]:
    groups = repository.duplicate_groups(session, g.actor, g.scope, limit)
    audit.record(
        session,
        g.actor,
        action="list",
        entity="client",
        row_count=len(groups),
        detail={"view": "duplicates"},
    )
    return [DuplicateGroup(kind=k, value=v, client_ids=ids) for k, v, ids in groups]


@router.get(
    "/clients/{client_id}",
    response_model=ClientOut,
    summary="Read a client card",
    responses=NOT_FOUND,
)
def read_client(client_id: int, session: DbSession, g: Read, response: Response) -> ClientOut:
    client = visible_client(session, g, client_id)
    audit.record(session, g.actor, action="read", entity="client", entity_id=client.id)
    set_etag(response, client.id, client.version)
    return _out(client)


@router.patch(
    "/clients/{client_id}",
    response_model=ClientOut,
    summary="Change a client",
    responses={**WRITE_ERRORS, 403: {"description": "Reassign not allowed"}},
)
def update_client(
    client_id: int,
    body: ClientUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("client", Action.UPDATE)],
) -> ClientOut:
    client = visible_client(session, g, client_id)
    require_match(request, client.id, client.version)
    client = client_service.update_client(
        session, actor=g.actor, scope=g.scope, client=client, data=body
    )
    set_etag(response, client.id, client.version)
    return _out(client)


@router.delete(
    "/clients/{client_id}",
    status_code=204,
    summary="Delete (hide) a client",
    responses=WRITE_ERRORS,
)
def delete_client(
    client_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("client", Action.DELETE)],
) -> Response:
    client = visible_client(session, g, client_id)
    require_match(request, client.id, client.version)
    client_service.soft_delete(session, actor=g.actor, client=client)
    return Response(status_code=204)


@router.get(
    "/clients/{client_id}/timeline",
    response_model=Timeline,
    summary="Every interaction with the client, newest first",
    responses=NOT_FOUND,
)
def client_timeline(
    client_id: int,
    session: DbSession,
    g: Read,
    before: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Timeline:
    client = visible_client(session, g, client_id)
    items, next_before = build_timeline(session, client.id, before=before, limit=limit)
    audit.record(
        session,
        g.actor,
        action="read",
        entity="client",
        entity_id=client.id,
        detail={"view": "timeline"},
        row_count=len(items),
    )
    return Timeline(client_id=client.id, items=items, next_before=next_before)


@router.post(
    "/clients/{client_id}/merge",
    response_model=ClientOut,
    summary="Merge duplicates into this client (their history moves here)",
    responses=NOT_FOUND,
)
def merge_clients(
    client_id: int,
    body: MergeIn,
    session: DbSession,
    g: Annotated[Grant, grant("client", Action.MERGE)],
) -> ClientOut:
    target = visible_client(session, g, client_id)
    sources = [
        visible_client(session, g, source_id) for source_id in dict.fromkeys(body.source_ids)
    ]
    merged = merge_service.merge(session, actor=g.actor, target=target, sources=sources)
    return _out(visible_client(session, g, merged.id))


@router.get(
    "/clients/{client_id}/consents",
    response_model=list[ConsentOut],
    summary="Consent history (append-only)",
    responses=NOT_FOUND,
)
def list_consents(
    client_id: int, session: DbSession, g: Annotated[Grant, grant("consent", Action.READ)]
) -> list[ConsentOut]:
    client = visible_client(session, g, client_id)
    audit.record(session, g.actor, action="read", entity="consent", entity_id=client.id)
    return [ConsentOut.model_validate(r) for r in repository.consent_history(session, client.id)]


@router.get(
    "/clients/{client_id}/consents/status",
    response_model=list[ConsentStatus],
    summary="Current consent per purpose (the latest record wins)",
    responses=NOT_FOUND,
)
def consent_status(
    client_id: int, session: DbSession, g: Annotated[Grant, grant("consent", Action.READ)]
) -> list[ConsentStatus]:
    client = visible_client(session, g, client_id)
    latest: dict[str, ConsentRecord] = {}
    for record in repository.consent_history(session, client.id):
        latest[record.purpose.value] = record
    return [
        ConsentStatus(purpose=r.purpose, granted=r.granted, since=r.occurred_at)
        for r in latest.values()
    ]


@router.post(
    "/clients/{client_id}/consents",
    response_model=ConsentOut,
    status_code=201,
    summary="Record a grant or withdrawal of consent",
    responses=NOT_FOUND,
)
def record_consent(
    client_id: int,
    body: ConsentIn,
    session: DbSession,
    g: Annotated[Grant, grant("consent", Action.CREATE)],
) -> ConsentOut:
    client = visible_client(session, g, client_id)
    record = ConsentRecord(
        workspace_id=client.workspace_id,
        client_id=client.id,
        purpose=body.purpose,
        granted=body.granted,
        method=body.method,
        text_version=body.text_version,
        evidence=body.evidence,
        occurred_at=body.occurred_at or clock.now(),
        recorded_by_id=g.actor.user_id,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        g.actor,
        action="create",
        entity="consent",
        entity_id=record.id,
        detail={"client_id": client.id},
    )
    return ConsentOut.model_validate(record)
