"""Activity rules: links and owners within scope, idempotent creation, updates, completion.

The per-kind checks (``schemas.check_kind_rules``) run on the whole record, the stored values
merged with the change, so an update can't leave a call whose timestamps contradict each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.access.scope import check_owner
from voronka.activity import repository
from voronka.activity.models import Activity, ActivityKind
from voronka.activity.schemas import (
    ActivityCreate,
    ActivityFields,
    ActivityUpdate,
    check_kind_rules,
)
from voronka.audit import service as audit
from voronka.errors import Conflict, ErrorDetail, Forbidden, InvalidInput, TransitionNotAllowed

#: What each derived duration is computed from; changing one of these re-derives it.
DURATION_INPUTS = {
    "wait_seconds": frozenset({"queued_at", "answered_at", "ended_at", "call_status"}),
    "talk_seconds": frozenset({"answered_at", "ended_at", "call_status"}),
}


class ExternalIdTaken(Conflict):
    code = "external_id_taken"


def _check_owner(session: Session, actor: Actor, scope: Scope, owner_id: int | None) -> None:
    check_owner(
        session,
        actor,
        scope,
        owner_id,
        refusal="you may not give an activity to that owner",
        allow_unassigned=True,
    )


def _check_links(session: Session, actor: Actor, scope: Scope, values: dict[str, Any]) -> None:
    """The client must be one the actor may touch; the deal must be that client's."""
    client_id, deal_id = values.get("client_id"), values.get("deal_id")
    if client_id is not None and not repository.client_is_visible(session, actor, scope, client_id):
        raise InvalidInput(
            "client_id: no such client", [ErrorDetail("unknown client", field="client_id")]
        )
    if deal_id is not None and (
        client_id is None
        or repository.deal_of_client(session, actor.workspace_id, deal_id, client_id) is None
    ):
        raise InvalidInput(
            "deal_id: no such deal for this client",
            [ErrorDetail("the deal must belong to client_id", field="deal_id")],
        )
    if client_id is None and values.get("owner_id") is None:
        raise InvalidInput(
            "an activity without a client needs an owner",
            [ErrorDetail("required when client_id is empty", field="owner_id")],
        )


def _replay(
    session: Session, actor: Actor, scope: Scope, kind: ActivityKind, external_id: str
) -> Activity | None:
    """The stored activity with this provider id, if any; 409 when the caller may not see it."""
    stored = repository.by_external_id(session, actor.workspace_id, kind, external_id)
    if stored is None:
        return None
    if stored.is_deleted or repository.get_visible(session, actor, scope, stored.id) is None:
        raise ExternalIdTaken(
            "external_id: another activity of this kind already has this id",
            [ErrorDetail("already used", field="external_id")],
        )
    return stored


def create(
    session: Session, *, actor: Actor, scope: Scope, data: ActivityCreate
) -> tuple[Activity, bool]:
    """Create an activity; returns ``(activity, created)``.

    When ``data.external_id`` is already stored for this kind, the stored activity is returned
    unchanged with ``created`` false, also when a concurrent request inserted it first.
    """
    if data.external_id is not None:
        stored = _replay(session, actor, scope, data.kind, data.external_id)
        if stored is not None:
            return stored, False
    values = data.model_dump(exclude={"kind", "external_id"})
    if "owner_id" not in data.model_fields_set:
        values["owner_id"] = actor.user_id
    _check_owner(session, actor, scope, values["owner_id"])
    _check_links(session, actor, scope, values)
    check_kind_rules(data.kind, values)
    values["occurred_at"] = values["occurred_at"] or values["queued_at"] or clock.now()
    activity = Activity(
        workspace_id=actor.workspace_id, kind=data.kind, external_id=data.external_id, **values
    )
    try:
        with session.begin_nested():
            session.add(activity)
            session.flush()
    except IntegrityError:
        # Another request stored the same provider id between the lookup and the insert.
        stored = _replay(session, actor, scope, data.kind, data.external_id or "")
        if data.external_id is None or stored is None:
            raise
        return stored, False
    audit.record(session, actor, action="create", entity="activity", entity_id=activity.id)
    return activity, True


def _check_reassign(session: Session, actor: Actor, owner_id: int | None) -> None:
    reassign = scope_for(actor, "activity", Action.REASSIGN)
    if reassign is Scope.NONE:
        raise Forbidden(
            "your role may not reassign activities", [ErrorDetail("not allowed", field="owner_id")]
        )
    _check_owner(session, actor, reassign, owner_id)


def _merged(activity: Activity, patch: dict[str, Any]) -> dict[str, Any]:
    """The record as it would be after ``patch``; stale derived durations are dropped."""
    values = {name: getattr(activity, name) for name in ActivityFields.model_fields}
    values.update(patch)
    for name, inputs in DURATION_INPUTS.items():
        if name not in patch and inputs & patch.keys():
            values[name] = None
    return values


def update(
    session: Session, *, actor: Actor, scope: Scope, activity: Activity, data: ActivityUpdate
) -> Activity:
    """Apply the fields set in ``data``; changing the owner needs the reassign right."""
    patch = data.model_dump(exclude_unset=True)
    if "occurred_at" in patch and patch["occurred_at"] is None:
        raise InvalidInput(
            "occurred_at cannot be null", [ErrorDetail("required", field="occurred_at")]
        )
    if patch.get("owner_id", activity.owner_id) != activity.owner_id:
        _check_reassign(session, actor, patch["owner_id"])
    values = _merged(activity, patch)
    _check_links(session, actor, scope, values)
    check_kind_rules(activity.kind, values)
    changes = {
        name: (getattr(activity, name), value)
        for name, value in values.items()
        if getattr(activity, name) != value
    }
    if changes:
        for name, (_, value) in changes.items():
            setattr(activity, name, value)
        session.flush()
        audit.record(
            session,
            actor,
            action="update",
            entity="activity",
            entity_id=activity.id,
            changes=audit.redact_changes(Activity, changes),
        )
    return activity


def complete(session: Session, *, actor: Actor, activity: Activity) -> Activity:
    """Mark a task done now."""
    if activity.kind is not ActivityKind.TASK:
        raise TransitionNotAllowed(f"only tasks can be completed, not {activity.kind.value}s")
    if activity.completed_at is not None:
        raise TransitionNotAllowed("the task is already completed")
    activity.completed_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor,
        action="update",
        entity="activity",
        entity_id=activity.id,
        changes={"completed_at": [None, activity.completed_at.isoformat()]},
    )
    return activity


def soft_delete(session: Session, *, actor: Actor, activity: Activity) -> None:
    """Hide an activity everywhere; the row stays so provider ids remain taken."""
    activity.is_deleted = True
    session.flush()
    audit.record(session, actor, action="delete", entity="activity", entity_id=activity.id)


def is_overdue(activity: Activity, now: datetime) -> bool | None:
    """For tasks: open and due before ``now``; ``None`` for other kinds."""
    if activity.kind is not ActivityKind.TASK:
        return None
    return activity.completed_at is None and activity.due_at is not None and activity.due_at < now
