"""Activities (calls, e-mails, meetings, messages, notes, tasks) and the task lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from voronka import clock
from voronka.access.policy import Action
from voronka.access.scope import owner_in_scope
from voronka.activity import repository
from voronka.activity import service as activity_service
from voronka.activity.models import Activity, ActivityKind, CallStatus
from voronka.activity.schemas import ActivityCreate, ActivityOut, ActivityUpdate
from voronka.audit import service as audit
from voronka.errors import ErrorDetail, Forbidden, NotFound
from voronka.fields import AwareUTC, Text
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, SortParam, apply_sort, fetch_page, like_pattern

router = APIRouter(tags=["activities"])
Read = Annotated[Grant, grant("activity", Action.READ)]
Update = Annotated[Grant, grant("activity", Action.UPDATE)]
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "No such activity visible to you"}}
PRECONDITIONS: Responses = {
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}
INVALID: Responses = {422: {"description": "Invalid field; `details` name each one"}}


def denied(also: str | None = None) -> Responses:
    """The 401 and 403 every route can return; ``also`` adds the route's own reason for 403."""
    forbidden = "Your role may not do this" + (f", or {also}" if also else "")
    return {401: {"description": "Not signed in"}, 403: {"description": forbidden}}


SORTABLE = {
    "occurred_at": Activity.occurred_at,
    "created_at": Activity.created_at,
    "updated_at": Activity.updated_at,
    "due_at": Activity.due_at,
    "id": Activity.id,
}


def visible_activity(session: DbSession, g: Grant, activity_id: int) -> Activity:
    """The activity if the grant's scope covers it; otherwise 404 as for a missing id."""
    activity = repository.get_visible(session, g.actor, g.scope, activity_id)
    if activity is None:
        raise NotFound("no such activity")
    return activity


def _out(activity: Activity, now: datetime) -> ActivityOut:
    out = ActivityOut.model_validate(activity)
    return out.model_copy(update={"overdue": activity_service.is_overdue(activity, now)})


def _page(rows: list[Activity], total: int, paging: Paging) -> Page[ActivityOut]:
    now = clock.now()
    return Page(
        items=[_out(a, now) for a in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


def _audit_list(g: Grant, session: DbSession, rows: list[Activity], **filters: Any) -> None:
    used = {name: str(value) for name, value in filters.items() if value is not None}
    audit.record(
        session,
        g.actor,
        action="list",
        entity="activity",
        row_count=len(rows),
        detail={"filter": used},
    )


@router.get(
    "/activities",
    response_model=Page[ActivityOut],
    summary="List and search activities",
    responses={
        **denied("the owner filter is outside your scope"),
        400: {"description": "Unknown sort field"},
        **INVALID,
    },
)
def list_activities(
    session: DbSession,
    g: Read,
    paging: Paging,
    sort: SortParam = None,
    kind: ActivityKind | None = None,
    client_id: int | None = None,
    deal_id: int | None = None,
    owner_id: int | None = None,
    occurred_from: Annotated[AwareUTC | None, Query(description="Inclusive.")] = None,
    occurred_to: Annotated[AwareUTC | None, Query(description="Exclusive.")] = None,
    status: Annotated[CallStatus | None, Query(description="Call status (calls only).")] = None,
    open: Annotated[bool | None, Query(description="Tasks: not completed (or completed).")] = None,
    overdue: Annotated[bool | None, Query(description="Tasks: open and past due.")] = None,
    q: Annotated[Text | None, Query(max_length=200, description="Search subject and body")] = None,
) -> Page[ActivityOut]:
    if owner_id is not None and not owner_in_scope(session, g.actor, g.scope, owner_id):
        raise Forbidden(
            "you may not filter by that owner",
            [ErrorDetail("outside your scope", field="owner_id")],
        )
    query = repository.filtered(
        repository.visible_to(g.actor, g.scope),
        kind=kind,
        client_id=client_id,
        deal_id=deal_id,
        owner_id=owner_id,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        call_status=status,
        is_open=open,
        overdue_at=None if overdue is None else (overdue, clock.now()),
        matching=repository.search(session, like_pattern(q.lower())) if q else None,
    )
    query = apply_sort(query, sort, SORTABLE, [Activity.occurred_at.desc()], Activity.id)
    rows, total = fetch_page(session, query, paging)
    _audit_list(g, session, rows, q=q, kind=kind, client_id=client_id, owner_id=owner_id)
    return _page(rows, total, paging)


@router.post(
    "/activities",
    response_model=ActivityOut,
    status_code=201,
    summary="Record an activity (idempotent by kind + external_id)",
    responses={
        200: {"model": ActivityOut, "description": "Same kind and external_id already stored"},
        **denied("the owner is outside your scope"),
        409: {"description": "external_id used by an activity you can't see"},
        **INVALID,
    },
)
def create_activity(
    body: ActivityCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("activity", Action.CREATE)],
) -> ActivityOut:
    activity, created = activity_service.create(session, actor=g.actor, scope=g.scope, data=body)
    if not created:
        response.status_code = 200
    set_etag(response, activity.id, activity.version)
    return _out(activity, clock.now())


@router.get(
    "/activities/{activity_id}",
    response_model=ActivityOut,
    summary="Read an activity",
    responses={**denied(), **NOT_FOUND},
)
def read_activity(activity_id: int, session: DbSession, g: Read, response: Response) -> ActivityOut:
    activity = visible_activity(session, g, activity_id)
    audit.record(session, g.actor, action="read", entity="activity", entity_id=activity.id)
    set_etag(response, activity.id, activity.version)
    return _out(activity, clock.now())


@router.patch(
    "/activities/{activity_id}",
    response_model=ActivityOut,
    summary="Change an activity",
    responses={
        **denied("reassigning is not allowed"),
        **NOT_FOUND,
        **PRECONDITIONS,
        **INVALID,
    },
)
def update_activity(
    activity_id: int,
    body: ActivityUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Update,
) -> ActivityOut:
    activity = visible_activity(session, g, activity_id)
    require_match(request, activity.id, activity.version)
    activity = activity_service.update(
        session, actor=g.actor, scope=g.scope, activity=activity, data=body
    )
    set_etag(response, activity.id, activity.version)
    return _out(activity, clock.now())


@router.delete(
    "/activities/{activity_id}",
    status_code=204,
    summary="Delete (hide) an activity",
    responses={**denied(), **NOT_FOUND, **PRECONDITIONS},
)
def delete_activity(
    activity_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("activity", Action.DELETE)],
) -> Response:
    activity = visible_activity(session, g, activity_id)
    require_match(request, activity.id, activity.version)
    activity_service.soft_delete(session, actor=g.actor, activity=activity)
    return Response(status_code=204)


@router.post(
    "/activities/{activity_id}/complete",
    response_model=ActivityOut,
    summary="Mark a task done",
    responses={
        **denied(),
        **NOT_FOUND,
        **PRECONDITIONS,
        409: {"description": "Not a task, or already completed"},
    },
)
def complete_task(
    activity_id: int, request: Request, response: Response, session: DbSession, g: Update
) -> ActivityOut:
    activity = visible_activity(session, g, activity_id)
    require_match(request, activity.id, activity.version)
    activity = activity_service.complete(session, actor=g.actor, activity=activity)
    set_etag(response, activity.id, activity.version)
    return _out(activity, clock.now())


@router.get(
    "/tasks/mine",
    response_model=Page[ActivityOut],
    summary="Your open tasks, soonest due first, with an overdue flag",
    responses=denied("the caller is not a person"),
)
def my_tasks(session: DbSession, g: Read, paging: Paging) -> Page[ActivityOut]:
    if g.actor.user_id is None:
        raise Forbidden("only a person has a task list")
    query = repository.open_tasks_of(repository.visible_to(g.actor, g.scope), g.actor.user_id)
    rows, total = fetch_page(session, query, paging)
    _audit_list(g, session, rows, view="tasks/mine")
    return _page(rows, total, paging)


@router.get(
    "/tasks/reminders/due",
    response_model=Page[ActivityOut],
    summary="Open tasks in your scope whose reminder time has passed",
    responses=denied(),
)
def due_reminders(session: DbSession, g: Read, paging: Paging) -> Page[ActivityOut]:
    query = repository.reminders_due(repository.visible_to(g.actor, g.scope), clock.now())
    rows, total = fetch_page(session, query, paging)
    _audit_list(g, session, rows, view="tasks/reminders/due")
    return _page(rows, total, paging)
