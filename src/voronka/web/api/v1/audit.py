"""The audit log, read-only: browse events and answer the breach-drill question.

Administrators see every event of the workspace; heads of sales see the events whose actor
is a member of their team (policy ``audit_event`` READ). Events of the system actor (CLI,
jobs) have no team and are shown to administrators only. There is deliberately no route
that changes or deletes an event: other methods on these paths answer 405.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from voronka.access.policy import Action, Scope
from voronka.access.scope import owner_condition, owner_in_scope
from voronka.audit import service as audit
from voronka.audit.models import AuditEvent
from voronka.errors import BadRequest, ErrorDetail, Forbidden, NotFound
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.listing import Page, PageRequest, Paging, SortParam, apply_sort, fetch_page

router = APIRouter(tags=["audit"])
AnySelect = TypeVar("AnySelect", bound=Select)
AuditRead = Annotated[Grant, grant("audit_event", Action.READ)]

#: Actions on a single client that disclose it to the actor (the breach-drill question).
DISCLOSING_ACTIONS = ("read", "export")
#: Actions on many clients at once; their events carry a filter and a row count, not ids.
BULK_ACTIONS = ("list", "export")
SORTABLE: dict[str, Any] = {"occurred_at": AuditEvent.occurred_at, "id": AuditEvent.id}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such audit event visible to you"}
}
FILTER_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "`from` is not before `to`, or unknown sort field"},
    403: {"description": "`actor_id` outside your scope"},
}
FromParam = Annotated[
    AwareDatetime | None,
    Query(alias="from", description="Earliest time, inclusive (ISO 8601 with offset)."),
]
ToParam = Annotated[
    AwareDatetime | None, Query(description="Latest time, exclusive (ISO 8601 with offset).")
]


class AuditEventOut(BaseModel):
    """One recorded read, change, export or sign-in; ``changes`` never hold personal values."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_id: int | None
    actor_kind: str
    action: str
    entity: str
    entity_id: int | None
    row_count: int | None
    changes: dict[str, Any] | None
    detail: dict[str, Any] | None
    request_id: str | None
    ip: str | None


class SubjectAccess(BaseModel):
    """One client the actor read or exported in the period."""

    client_id: int
    actions: list[str] = Field(description="Distinct actions, e.g. read, export.")
    events: int = Field(description="Number of audit events naming this client.")
    first_at: datetime
    last_at: datetime


class BulkAccess(BaseModel):
    """List and export events in the period that did not name single clients."""

    events: int
    rows: int = Field(description="Sum of the rows those events returned.")


class SubjectReport(BaseModel):
    """Which clients a user read or exported between two instants."""

    actor_id: int
    period_from: datetime = Field(serialization_alias="from")
    period_to: datetime = Field(serialization_alias="to")
    items: list[SubjectAccess]
    total: int
    page: int
    page_size: int
    bulk: BulkAccess = Field(
        description="Bulk reads to inspect with GET /audit-events?actor_id=…&entity=client."
    )


def visible_events(grant_: Grant) -> Select[Any]:
    """Events of the caller's workspace whose actor is within the caller's scope."""
    condition: ColumnElement[bool] = owner_condition(
        AuditEvent.__table__.c.actor_id, grant_.actor, grant_.scope
    )
    if grant_.scope is not Scope.ALL:
        # owner_condition treats NULL as "unassigned"; here NULL is the system actor.
        condition = and_(condition, AuditEvent.actor_id.is_not(None))
    return select(AuditEvent).where(AuditEvent.workspace_id == grant_.actor.workspace_id, condition)


def _check_period(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise BadRequest(
            "`from` must be before `to`", [ErrorDetail("not before `to`", field="from")]
        )


def _check_actor_filter(session: Session, grant_: Grant, actor_id: int | None) -> None:
    """Refuse to filter by a user outside the scope, so no count reveals their activity."""
    if actor_id is not None and not owner_in_scope(session, grant_.actor, grant_.scope, actor_id):
        raise Forbidden(
            "you may not see that user's audit events",
            [ErrorDetail("outside your scope", field="actor_id")],
        )


def _in_period(query: AnySelect, start: datetime | None, end: datetime | None) -> AnySelect:
    if start is not None:
        query = query.where(AuditEvent.occurred_at >= start)
    if end is not None:
        query = query.where(AuditEvent.occurred_at < end)
    return query


def _record_view(session: Session, grant_: Grant, row_count: int, **detail: Any) -> None:
    """Reading the audit log is itself audited (who looked at whose activity)."""
    audit.record(
        session,
        grant_.actor,
        action="list",
        entity="audit_event",
        row_count=row_count,
        detail={key: str(value) for key, value in detail.items() if value is not None},
    )


@router.get(
    "/audit-events",
    response_model=Page[AuditEventOut],
    summary="List audit events, newest first",
    responses=FILTER_ERRORS,
)
def list_events(
    session: DbSession,
    g: AuditRead,
    paging: Paging,
    sort: SortParam = None,
    actor_id: int | None = None,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: int | None = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    start: FromParam = None,
    to: ToParam = None,
) -> Page[AuditEventOut]:
    _check_period(start, to)
    _check_actor_filter(session, g, actor_id)
    query = _in_period(visible_events(g), start, to)
    for column, value in (
        (AuditEvent.actor_id, actor_id),
        (AuditEvent.entity, entity),
        (AuditEvent.entity_id, entity_id),
        (AuditEvent.action, action),
    ):
        if value is not None:
            query = query.where(column == value)
    query = apply_sort(query, sort or "-occurred_at", SORTABLE, [], AuditEvent.__table__.c.id)
    rows, total = fetch_page(session, query, paging)
    _record_view(
        session,
        g,
        row_count=len(rows),
        actor_id=actor_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        start=start,
        to=to,
    )
    return Page(
        items=[AuditEventOut.model_validate(e) for e in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


def _disclosures(grant_: Grant, actor_id: int, start: datetime, end: datetime) -> Select[Any]:
    """Events in which ``actor_id`` read or exported one named client."""
    query = select(AuditEvent).where(
        AuditEvent.workspace_id == grant_.actor.workspace_id,
        AuditEvent.actor_id == actor_id,
        AuditEvent.entity == "client",
        AuditEvent.entity_id.is_not(None),
        AuditEvent.action.in_(DISCLOSING_ACTIONS),
    )
    return _in_period(query, start, end)


def _subject_page(
    session: Session, disclosures: Select[Any], paging: PageRequest
) -> tuple[list[SubjectAccess], int]:
    """One page of clients (by id) with their event counts and first and last access."""
    events = disclosures.subquery()
    per_client = (
        select(
            events.c.entity_id,
            func.count().label("events"),
            func.min(events.c.occurred_at).label("first_at"),
            func.max(events.c.occurred_at).label("last_at"),
        )
        .group_by(events.c.entity_id)
        .order_by(events.c.entity_id)
    )
    total = session.scalar(select(func.count()).select_from(per_client.subquery())) or 0
    rows = session.execute(per_client.limit(paging.page_size).offset(paging.offset)).all()
    actions = _actions_by_client(session, events, [row.entity_id for row in rows])
    items = [
        SubjectAccess(
            client_id=row.entity_id,
            actions=actions[row.entity_id],
            events=row.events,
            first_at=row.first_at,
            last_at=row.last_at,
        )
        for row in rows
    ]
    return items, total


def _actions_by_client(
    session: Session, events: Any, client_ids: list[int]
) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {client_id: [] for client_id in client_ids}
    pairs = (
        select(events.c.entity_id, events.c.action)
        .where(events.c.entity_id.in_(client_ids))
        .distinct()
        .order_by(events.c.entity_id, events.c.action)
    )
    for client_id, action in session.execute(pairs):
        found[client_id].append(action)
    return found


def _bulk(
    session: Session, grant_: Grant, actor_id: int, start: datetime, end: datetime
) -> BulkAccess:
    query = select(func.count(), func.coalesce(func.sum(AuditEvent.row_count), 0)).where(
        AuditEvent.workspace_id == grant_.actor.workspace_id,
        AuditEvent.actor_id == actor_id,
        AuditEvent.entity == "client",
        AuditEvent.entity_id.is_(None),
        AuditEvent.action.in_(BULK_ACTIONS),
    )
    events, rows = session.execute(_in_period(query, start, end)).one()
    return BulkAccess(events=events, rows=rows)


@router.get(
    "/audit-events/subjects",
    response_model=SubjectReport,
    summary="Clients a user read or exported in a period (breach drill)",
    responses=FILTER_ERRORS,
)
def subjects(
    session: DbSession,
    g: AuditRead,
    paging: Paging,
    actor_id: int,
    start: Annotated[AwareDatetime, Query(alias="from", description="Inclusive.")],
    to: Annotated[AwareDatetime, Query(description="Exclusive.")],
) -> SubjectReport:
    _check_period(start, to)
    _check_actor_filter(session, g, actor_id)
    items, total = _subject_page(session, _disclosures(g, actor_id, start, to), paging)
    report = SubjectReport(
        actor_id=actor_id,
        period_from=start,
        period_to=to,
        items=items,
        total=total,
        page=paging.page,
        page_size=paging.page_size,
        bulk=_bulk(session, g, actor_id, start, to),
    )
    _record_view(
        session, g, row_count=len(items), view="subjects", actor_id=actor_id, start=start, to=to
    )
    return report


@router.get(
    "/audit-events/{event_id}",
    response_model=AuditEventOut,
    summary="Read one audit event",
    responses=NOT_FOUND,
)
def read_event(event_id: int, session: DbSession, g: AuditRead) -> AuditEventOut:
    event = session.scalar(visible_events(g).where(AuditEvent.id == event_id))
    if event is None:
        raise NotFound("no such audit event")
    return AuditEventOut.model_validate(event)
