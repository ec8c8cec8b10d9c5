"""Support: tickets, satisfaction feedback and the CSAT/NPS summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from voronka.access.policy import Action
from voronka.access.scope import owner_in_scope
from voronka.audit import service as audit
from voronka.errors import ErrorDetail, Forbidden, NotFound
from voronka.fields import AwareUTC, Text
from voronka.support import repository
from voronka.support import service as support_service
from voronka.support.models import (
    Feedback,
    FeedbackKind,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from voronka.support.schemas import (
    FeedbackCreate,
    FeedbackOut,
    FeedbackSummary,
    TicketCreate,
    TicketOut,
    TicketUpdate,
)
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, SortParam, apply_sort, fetch_page, like_pattern

router = APIRouter(tags=["support"])
ReadTickets = Annotated[Grant, grant("ticket", Action.READ)]
ReadFeedback = Annotated[Grant, grant("feedback", Action.READ)]
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "No such ticket visible to you"}}
PRECONDITIONS: Responses = {
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}
INVALID: Responses = {422: {"description": "Invalid field; `details` name each one"}}
LIST_ERRORS: Responses = {400: {"description": "Unknown sort field"}, **INVALID}


def denied(also: str | None = None) -> Responses:
    """The 401 and 403 every route can return; ``also`` adds the route's own reason for 403."""
    forbidden = "Your role may not do this" + (f", or {also}" if also else "")
    return {401: {"description": "Not signed in"}, 403: {"description": forbidden}}


TICKET_SORTABLE = {
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "resolved_at": Ticket.resolved_at,
    "priority": repository.PRIORITY_RANK,
    "status": Ticket.status,
    "id": Ticket.id,
}
FEEDBACK_SORTABLE = {"created_at": Feedback.created_at, "score": Feedback.score, "id": Feedback.id}
Since = Annotated[AwareUTC | None, Query(description="Created at or after (aware).")]
Until = Annotated[AwareUTC | None, Query(description="Created before (aware).")]


def visible_ticket(session: DbSession, g: Grant, ticket_id: int) -> Ticket:
    """The ticket if the grant's scope covers it; otherwise 404 as for a missing id."""
    ticket = repository.get_visible_ticket(session, g.actor, g.scope, ticket_id)
    if ticket is None:
        raise NotFound("no such ticket")
    return ticket


@router.get(
    "/tickets",
    response_model=Page[TicketOut],
    summary="List and search support tickets",
    responses={**denied("the owner filter is outside your scope"), **LIST_ERRORS},
)
def list_tickets(
    session: DbSession,
    g: ReadTickets,
    paging: Paging,
    sort: SortParam = None,
    status: TicketStatus | None = None,
    priority: TicketPriority | None = None,
    client_id: int | None = None,
    owner_id: int | None = None,
    order_id: int | None = None,
    created_from: Since = None,
    created_to: Until = None,
    q: Annotated[Text | None, Query(max_length=200, description="Search subject and body")] = None,
) -> Page[TicketOut]:
    if owner_id is not None and not owner_in_scope(session, g.actor, g.scope, owner_id):
        raise Forbidden(
            "you may not filter by that owner",
            [ErrorDetail("outside your scope", field="owner_id")],
        )
    query = repository.filtered_tickets(
        repository.tickets_visible_to(g.actor, g.scope),
        status=status,
        priority=priority,
        client_id=client_id,
        owner_id=owner_id,
        order_id=order_id,
        created_from=created_from,
        created_to=created_to,
        matching=repository.ticket_search(session, like_pattern(q.lower())) if q else None,
    )
    query = apply_sort(query, sort, TICKET_SORTABLE, [Ticket.created_at.desc()], Ticket.id)
    rows, total = fetch_page(session, query, paging)
    used = {"q": q, "status": status, "client_id": client_id, "owner_id": owner_id}
    audit.record(
        session,
        g.actor,
        action="list",
        entity="ticket",
        row_count=len(rows),
        detail={"filter": {k: str(v) for k, v in used.items() if v is not None}},
    )
    items = [TicketOut.model_validate(t) for t in rows]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.post(
    "/tickets",
    response_model=TicketOut,
    status_code=201,
    summary="Open a support ticket",
    responses={**denied("the owner is outside your scope"), **INVALID},
)
def create_ticket(
    body: TicketCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("ticket", Action.CREATE)],
) -> TicketOut:
    ticket = support_service.create_ticket(session, actor=g.actor, scope=g.scope, data=body)
    set_etag(response, ticket.id, ticket.version)
    return TicketOut.model_validate(ticket)


@router.get(
    "/tickets/{ticket_id}",
    response_model=TicketOut,
    summary="Read a support ticket",
    responses={**denied(), **NOT_FOUND},
)
def read_ticket(
    ticket_id: int, session: DbSession, g: ReadTickets, response: Response
) -> TicketOut:
    ticket = visible_ticket(session, g, ticket_id)
    audit.record(session, g.actor, action="read", entity="ticket", entity_id=ticket.id)
    set_etag(response, ticket.id, ticket.version)
    return TicketOut.model_validate(ticket)


@router.patch(
    "/tickets/{ticket_id}",
    response_model=TicketOut,
    summary="Change a ticket (status, priority, owner, text)",
    responses={
        **denied("reassigning is not allowed"),
        **NOT_FOUND,
        **PRECONDITIONS,
        **INVALID,
    },
)
def update_ticket(
    ticket_id: int,
    body: TicketUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("ticket", Action.UPDATE)],
) -> TicketOut:
    ticket = visible_ticket(session, g, ticket_id)
    require_match(request, ticket.id, ticket.version)
    ticket = support_service.update_ticket(session, actor=g.actor, ticket=ticket, data=body)
    set_etag(response, ticket.id, ticket.version)
    return TicketOut.model_validate(ticket)


@router.delete(
    "/tickets/{ticket_id}",
    status_code=204,
    summary="Delete (hide) a ticket",
    responses={**denied(), **NOT_FOUND, **PRECONDITIONS},
)
def delete_ticket(
    ticket_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("ticket", Action.DELETE)],
) -> Response:
    ticket = visible_ticket(session, g, ticket_id)
    require_match(request, ticket.id, ticket.version)
    support_service.soft_delete_ticket(session, actor=g.actor, ticket=ticket)
    return Response(status_code=204)


@router.get(
    "/feedback",
    response_model=Page[FeedbackOut],
    summary="List satisfaction answers",
    responses={**denied(), **LIST_ERRORS},
)
def list_feedback(
    session: DbSession,
    g: ReadFeedback,
    paging: Paging,
    sort: SortParam = None,
    kind: FeedbackKind | None = None,
    client_id: int | None = None,
    ticket_id: int | None = None,
    order_id: int | None = None,
    created_from: Since = None,
    created_to: Until = None,
) -> Page[FeedbackOut]:
    query = repository.filtered_feedback(
        repository.feedback_visible_to(g.actor, g.scope),
        kind=kind,
        client_id=client_id,
        ticket_id=ticket_id,
        order_id=order_id,
        created_from=created_from,
        created_to=created_to,
    )
    query = apply_sort(query, sort, FEEDBACK_SORTABLE, [Feedback.created_at.desc()], Feedback.id)
    rows, total = fetch_page(session, query, paging)
    audit.record(session, g.actor, action="list", entity="feedback", row_count=len(rows))
    items = [FeedbackOut.model_validate(f) for f in rows]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=201,
    summary="Record a CSAT (1–5) or NPS (0–10) answer",
    responses={**denied(), **INVALID},
)
def create_feedback(
    body: FeedbackCreate,
    session: DbSession,
    g: Annotated[Grant, grant("feedback", Action.CREATE)],
) -> FeedbackOut:
    feedback = support_service.create_feedback(session, actor=g.actor, scope=g.scope, data=body)
    return FeedbackOut.model_validate(feedback)


@router.get(
    "/feedback/summary",
    response_model=FeedbackSummary,
    summary="CSAT mean and NPS over your scope for a period",
    responses={**denied(), **INVALID},
)
def feedback_summary(
    session: DbSession,
    g: ReadFeedback,
    since: Annotated[
        AwareUTC | None, Query(alias="from", description="Created at or after (aware).")
    ] = None,
    until: Annotated[
        AwareUTC | None, Query(alias="to", description="Created before (aware).")
    ] = None,
) -> FeedbackSummary:
    return support_service.summary(session, actor=g.actor, scope=g.scope, since=since, until=until)
