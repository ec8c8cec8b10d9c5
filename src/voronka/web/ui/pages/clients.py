"""Clients: searchable list with filters and saved views, the client card, quick actions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from voronka import clock
from voronka.access.policy import Action, Scope, scope_for
from voronka.access.scope import owner_in_scope
from voronka.activity import service as activity_service
from voronka.activity.models import ActivityKind, CallStatus
from voronka.activity.schemas import ActivityCreate
from voronka.audit import service as audit
from voronka.client import repository as client_repository
from voronka.client.models import Client, ClientKind
from voronka.client.timeline import timeline as build_timeline
from voronka.deal import repository as deal_repository
from voronka.deal import service as deal_service
from voronka.deal.models import Deal
from voronka.deal.schemas import DealCreate
from voronka.errors import ErrorDetail, Forbidden, InvalidInput, NotFound
from voronka.web.deps import DbSession
from voronka.web.listing import PageRequest, like_pattern
from voronka.web.listing import fetch_page as fetch
from voronka.web.ui.auth import PageGrant, page_grant
from voronka.web.ui.models import SavedView
from voronka.web.ui.pages.common import form_int, local_datetime, managers, validated
from voronka.web.ui.render import UiRoute, render
from voronka.web.ui.table import Column, Table, maybe_export

router = APIRouter(route_class=UiRoute)
ClientReader = Annotated[PageGrant, Depends(page_grant("client", Action.READ))]
ActivityWriter = Annotated[PageGrant, Depends(page_grant("activity", Action.CREATE))]
DealWriter = Annotated[PageGrant, Depends(page_grant("deal", Action.CREATE))]

PAGE_SIZE = 50
LIST_FILTERS = ("q", "owner_id", "kind", "tag")


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params[k] for k in LIST_FILTERS if request.query_params.get(k)}


def _list_query(session: Any, g: PageGrant, filters: dict[str, str]) -> Any:
    owner_id = form_int(filters.get("owner_id"), "owner_id")
    if owner_id is not None and not owner_in_scope(session, g.actor, g.scope, owner_id):
        raise Forbidden("you may not filter by that owner",
                        [ErrorDetail("outside your scope", field="owner_id")])
    kind = filters.get("kind")
    if kind is not None and kind not in {k.value for k in ClientKind}:
        raise InvalidInput("unknown client kind", [ErrorDetail("unknown", field="kind")])
    query = client_repository.filtered(
        client_repository.visible_to(g.actor, g.scope),
        like=like_pattern(filters["q"].casefold()[:200]) if filters.get("q") else None,
        owner_id=owner_id,
        kind=ClientKind(kind) if kind else None,
        tag=filters.get("tag", "")[:64] or None,
    )
    return query.order_by(Client.created_at.desc(), Client.id.desc())


@router.get("/ui/clients")
def clients_list(request: Request, session: DbSession, g: ClientReader) -> Response:
    filters = _filters(request)
    page_number = form_int(request.query_params.get("page"), "page") or 1
    query = _list_query(session, g, filters)
    exporting = request.query_params.get("export") is not None
    if exporting and scope_for(g.actor, "client", Action.EXPORT) is Scope.NONE:
        raise Forbidden("your role may not export client records")
    paging = PageRequest(page=1 if exporting else page_number,
                         page_size=5000 if exporting else PAGE_SIZE)
    rows, total = fetch(session, query, paging)
    owners = dict(managers(session, g.viewer))
    table = Table("clients", "Clients", [
        Column("name", "Name", "link", "/ui/clients/{id}"), Column("kind", "Kind"),
        Column("phone", "Phone"), Column("owner", "Owner"), Column("tags", "Tag"),
        Column("created_at", "Created", "date"),
    ], [{
        "id": c.id, "name": c.name, "kind": c.kind.value,
        "phone": next((p.value for p in c.contacts if p.kind.value == "phone"), None),
        "owner": owners.get(c.owner_id) if c.owner_id else None,
        "tags": ", ".join(t.tag for t in c.tags), "created_at": c.created_at,
    } for c in rows])
    audit.record(session, g.actor, action="export" if exporting else "list", entity="client",
                 row_count=len(rows), detail={"view": "ui", "filter": filters})
    exported = maybe_export(request, [table], g.viewer.language)
    if exported is not None:
        return exported
    views = session.scalars(select(SavedView).where(
        SavedView.user_id == g.actor.user_id, SavedView.page == "clients"
    ).order_by(SavedView.name)).all()
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "clients.html", {
        "title": "Clients", "table": table, "filters": filters, "total": total,
        "page": page_number, "pages": pages, "owners": managers(session, g.viewer),
        "views": views, "kinds": [k.value for k in ClientKind],
    })


@router.post("/ui/clients/views")
def save_view(
    request: Request, session: DbSession, g: ClientReader,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    query: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    from urllib.parse import parse_qsl, urlencode

    filters = {k: v for k, v in parse_qsl(query) if k in LIST_FILTERS and v}
    _list_query(session, g, filters)  # refuse filters outside the viewer's scope now
    existing = session.scalar(select(SavedView).where(
        SavedView.user_id == g.actor.user_id, SavedView.page == "clients",
        SavedView.name == name.strip()))
    if existing is None:
        session.add(SavedView(workspace_id=g.actor.workspace_id, user_id=g.actor.user_id,
                              page="clients", name=name.strip(), filters=filters))
    else:
        existing.filters = filters
    session.flush()
    return RedirectResponse("/ui/clients?" + urlencode(filters), status_code=303)


@router.post("/ui/clients/views/{view_id}/delete")
def delete_view(view_id: int, session: DbSession, g: ClientReader) -> Response:
    view = session.get(SavedView, view_id)
    if view is None or view.user_id != g.actor.user_id:
        raise NotFound("no such saved view")
    session.delete(view)
    return RedirectResponse("/ui/clients", status_code=303)


def visible_client(session: Any, g: PageGrant, client_id: int) -> Client:
    client = client_repository.get_visible(session, g.actor, g.scope, client_id)
    if client is None:
        raise NotFound("no such client")
    return client


def _consents(session: Any, client: Client) -> list[Any]:
    latest: dict[str, Any] = {}
    for record in client_repository.consent_history(session, client.id):
        latest[record.purpose.value] = record
    return list(latest.values())


def card_context(session: Any, g: PageGrant, client: Client) -> dict[str, Any]:
    items, _ = build_timeline(session, client.id, before=None, limit=100)
    deal_scope = scope_for(g.actor, "deal", Action.READ)
    deals = []
    if deal_scope is not Scope.NONE:
        deals = session.scalars(
            deal_repository.visible_to(g.actor, deal_scope)
            .where(Deal.client_id == client.id).order_by(Deal.created_at.desc())
        ).all()
    can_consent = scope_for(g.actor, "consent", Action.READ) is not Scope.NONE
    return {
        "client": client, "timeline": items, "deals": deals,
        "consents": _consents(session, client) if can_consent else [],
        "can_log": scope_for(g.actor, "activity", Action.CREATE) is not Scope.NONE,
        "can_deal": scope_for(g.actor, "deal", Action.CREATE) is not Scope.NONE,
        "owners": dict(managers(session, g.viewer)),
        "call_statuses": [s.value for s in CallStatus],
    }


@router.get("/ui/clients/{client_id}")
def client_card(client_id: int, request: Request, session: DbSession, g: ClientReader) -> Response:
    client = visible_client(session, g, client_id)
    audit.record(session, g.actor, action="read", entity="client", entity_id=client.id,
                 detail={"view": "ui_card"})
    return render(request, "client_card.html",
                  {"title": "Client card", **card_context(session, g, client)})


def _timeline_fragment(request: Request, session: Any, g: PageGrant, client: Client,
                       message: str) -> Response:
    context = {**card_context(session, g, client), "flash": message}
    return render(request, "_client_live.html", context)


def _logged_call(direction: str, status: str, talk_seconds: int | None) -> dict[str, Any]:
    """A call logged just after it ended: answered calls started ``talk_seconds`` ago."""
    ended = clock.now()
    if status != CallStatus.ANSWERED:
        return {"direction": direction, "call_status": status, "occurred_at": ended,
                "ended_at": ended}
    answered = ended - timedelta(seconds=talk_seconds or 0)
    return {"direction": direction, "call_status": status, "occurred_at": answered,
            "queued_at": answered, "answered_at": answered, "ended_at": ended,
            "talk_seconds": talk_seconds or 0}


@router.post("/ui/clients/{client_id}/activities")
def log_activity(
    client_id: int, request: Request, session: DbSession, g: ActivityWriter,
    kind: Annotated[str, Form(max_length=20)],
    subject: Annotated[str, Form(max_length=300)] = "",
    body: Annotated[str, Form(max_length=100_000)] = "",
    direction: Annotated[str, Form(max_length=20)] = "outbound",
    call_status: Annotated[str, Form(max_length=20)] = "answered",
    talk_seconds: Annotated[str, Form(max_length=10)] = "",
    due_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    client = visible_client(session, g, client_id)
    if kind not in (ActivityKind.CALL, ActivityKind.NOTE, ActivityKind.TASK):
        raise InvalidInput("unknown action", [ErrorDetail("call, note or task", field="kind")])
    data: dict[str, Any] = {"kind": kind, "client_id": client.id,
                            "subject": subject or None, "body": body or None}
    if kind == ActivityKind.CALL:
        data.update(_logged_call(direction, call_status, form_int(talk_seconds, "talk_seconds")))
    if kind == ActivityKind.TASK:
        data.update(due_at=local_datetime(due_at, "due_at"), owner_id=g.actor.user_id)
    activity_service.create(session, actor=g.actor, scope=g.scope,
                            data=validated(ActivityCreate, data))
    return _timeline_fragment(request, session, g, client, "Saved")


@router.post("/ui/clients/{client_id}/deals")
def create_deal(
    client_id: int, request: Request, session: DbSession, g: DealWriter,
    title: Annotated[str, Form(max_length=300)],
    amount: Annotated[str, Form(max_length=30)] = "0",
) -> Response:
    client = visible_client(session, g, client_id)
    try:
        value = Decimal(amount.replace(" ", "").replace(",", ".") or "0")
    except InvalidOperation as exc:
        raise InvalidInput("amount is not a number", [ErrorDetail("not a number", field="amount")]) from exc
    deal_service.create(session, actor=g.actor, scope=g.scope,
                        data=validated(DealCreate, {"title": title, "client_id": client.id,
                                                    "amount": value}))
    return _timeline_fragment(request, session, g, client, "Saved")
