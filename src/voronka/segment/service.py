"""Saving, listing, deleting and exporting segments (target lists).

Members are found by running a report as the actor (so the actor's report scope applies):
the ``segments`` report's members section for a behaviour segment, the clients report's RFM
section for an RFM segment. They are stored as they were found; the list does not follow
later changes of the data. Reading members back follows the client policy: people who may
read clients get the name and contacts of the members within their client scope; people who
may not (marketers) get client ids only, the pseudonymous key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.access.scope import visible_client_ids
from voronka.analytics import service as analytics
from voronka.audit import service as audit
from voronka.config import Settings
from voronka.errors import Conflict, ErrorDetail, Forbidden, InvalidInput, NotFound
from voronka.segment import repository
from voronka.segment.models import Segment, SegmentMember, SegmentSource
from voronka.segment.schemas import BehaviourSource, SegmentCreate

#: The most members one saved segment holds (the reports' row limit).
MAX_MEMBERS = 100_000


def create(session: Session, *, actor: Actor, data: SegmentCreate,
           settings: Settings | None = None) -> Segment:
    """Find the members with the actor's report scope and save them under ``data.name``."""
    if repository.by_name(session, actor.workspace_id, data.name) is not None:
        raise Conflict(f"a segment named {data.name!r} exists",
                       [ErrorDetail("name taken", field="name")])
    source, definition, found = _members_of(session, actor, data, settings)
    members = repository.live_client_ids(session, actor.workspace_id, found)
    segment = Segment(workspace_id=actor.workspace_id, name=data.name,
                      description=data.description, source=source, definition=definition,
                      member_count=len(members), created_by_id=actor.user_id)
    session.add(segment)
    session.flush()
    repository.add_members(session, segment.id, members)
    audit.record(session, actor, action="create", entity="segment", entity_id=segment.id,
                 row_count=len(members), detail={"source": source.value})
    return segment


def _members_of(session: Session, actor: Actor, data: SegmentCreate,
                settings: Settings | None) -> tuple[SegmentSource, dict[str, Any], list[int]]:
    if isinstance(data.source, BehaviourSource):
        query = {**data.source.query, "section": "members", "segment": data.source.segment,
                 "limit": MAX_MEMBERS}
        result = analytics.run(session, actor, "segments", query, settings)
        first = result.rows[0] if result.rows else {}
        definition = {"report": "segments", "query": {**result.query, "section": "profiles",
                                                      "segment": None, "limit": None},
                      "segment": data.source.segment, "name_en": first.get("name_en"),
                      "name_ru": first.get("name_ru")}
        source = SegmentSource.BEHAVIOUR
    else:
        query = {"period": data.source.period.model_dump(mode="json"), "section": "rfm",
                 "segment": data.source.segment, "limit": MAX_MEMBERS}
        result = analytics.run(session, actor, "clients", query, settings, ids_only=True)
        definition = {"report": "clients", "query": result.query,
                      "rfm_segment": data.source.segment}
        source = SegmentSource.RFM
    if len(result.rows) >= MAX_MEMBERS:
        raise InvalidInput(f"the segment has more than {MAX_MEMBERS} clients; narrow it",
                           [ErrorDetail("too many members", field="source")])
    return source, definition, [int(r["client_id"]) for r in result.rows]


def get(session: Session, *, actor: Actor, scope: Scope, segment_id: int) -> Segment:
    segment = session.scalar(repository.visible_to(actor, scope)
                             .where(Segment.id == segment_id))
    if segment is None:
        raise NotFound("no such segment", [ErrorDetail("not found", field="segment_id",
                                                       value=segment_id)])
    return segment


def delete(session: Session, *, actor: Actor, scope: Scope, segment_id: int) -> None:
    """Delete a segment within the DELETE ``scope``; one the actor sees but may not delete
    (someone else's) is refused with 403, not hidden."""
    read_scope = scope_for(actor, "segment", Action.READ)
    segment = get(session, actor=actor, scope=read_scope, segment_id=segment_id)
    if session.scalar(repository.visible_to(actor, scope).where(Segment.id == segment_id)) \
            is None:
        raise Forbidden("you may delete only the segments you saved")
    repository.delete_members(session, segment.id)
    session.delete(segment)
    audit.record(session, actor, action="delete", entity="segment", entity_id=segment_id,
                 row_count=segment.member_count)
    session.flush()


@dataclass(frozen=True)
class MemberExport:
    """What an export of members holds for this actor: the header and how many rows."""

    header: tuple[str, ...]
    client_scope: Scope
    row_count: int

    @property
    def with_contacts(self) -> bool:
        return self.client_scope is not Scope.NONE


def plan_export(session: Session, *, actor: Actor, segment: Segment) -> MemberExport:
    """Decide the columns and rows of the actor's export of ``segment``, and audit it."""
    client_scope = scope_for(actor, "client", Action.READ)
    if client_scope is Scope.NONE:
        plan = MemberExport(("client_id",), client_scope, segment.member_count)
    else:
        count = session.scalar(select(func.count()).select_from(SegmentMember).where(
            SegmentMember.segment_id == segment.id,
            SegmentMember.client_id.in_(visible_client_ids(actor, client_scope))))
        plan = MemberExport(("client_id", "name", "phone", "email"), client_scope, count or 0)
    audit.record(session, actor, action="export", entity="segment", entity_id=segment.id,
                 row_count=plan.row_count,
                 detail={"format": "csv", "columns": list(plan.header)})
    return plan


def export_rows(session: Session, *, actor: Actor, segment_id: int,
                plan: MemberExport) -> Iterator[tuple[Any, ...]]:
    """The rows ``plan`` promised, by client id."""
    if plan.with_contacts:
        yield from repository.members_with_contacts(session, segment_id, actor,
                                                    plan.client_scope)
        return
    ids = repository.member_ids(segment_id).order_by(SegmentMember.client_id)
    for client_id in session.scalars(ids.execution_options(yield_per=repository.YIELD_PER)):
        yield (client_id,)
