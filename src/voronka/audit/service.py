"""Writing audit events; they join the caller's transaction, so a rollback drops them too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.audit.models import AuditEvent
from voronka.db.base import Base
from voronka.db.session import DEFERRED_WRITES

CHANGED = "<changed>"


def personal_fields(model: type[Base]) -> frozenset[str]:
    """Attribute names of ``model`` classified as personal or sensitive data."""
    return frozenset(
        attr.key
        for attr in model.__mapper__.column_attrs
        if attr.columns[0].info.get("pd") in ("personal", "sensitive")
    )


def redact_changes(
    model: type[Base], changes: Mapping[str, tuple[Any, Any]]
) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` with personal values replaced by a marker."""
    hidden = personal_fields(model)
    return {
        name: [CHANGED, CHANGED] if name in hidden else [_jsonable(old), _jsonable(new)]
        for name, (old, new) in changes.items()
    }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record(
    session: Session,
    actor: Actor,
    *,
    action: str,
    entity: str,
    entity_id: int | None = None,
    changes: dict[str, list[Any]] | None = None,
    detail: dict[str, Any] | None = None,
    row_count: int | None = None,
) -> None:
    """Append one audit event for ``actor`` in the current transaction.

    In a read-only transaction the event is written right after it, by ``unit_of_work``.
    """
    event = AuditEvent(
        workspace_id=actor.workspace_id,
        occurred_at=clock.now(),
        actor_id=actor.user_id,
        actor_kind=actor.kind.value,
        action=action,
        entity=entity,
        entity_id=entity_id,
        changes=changes,
        detail=detail,
        row_count=row_count,
        request_id=actor.request_id,
        ip=actor.ip,
    )
    if session.info.get("read_only"):
        session.info.setdefault(DEFERRED_WRITES, []).append(event)
    else:
        session.add(event)


def apply_changes(
    session: Session, actor: Actor, target: Base, fields: dict[str, Any], *, entity: str
) -> dict[str, tuple[Any, Any]]:
    """Set the fields of ``target`` that differ, flush, and audit old → new (redacted).

    Returns the changes (empty when nothing differed, in which case nothing is written).
    """
    changes = {
        name: (getattr(target, name), value)
        for name, value in fields.items()
        if getattr(target, name) != value
    }
    if not changes:
        return changes
    for name, (_old, new) in changes.items():
        setattr(target, name, new)
    session.flush()
    target_id = target.id  # type: ignore[attr-defined]
    record(
        session,
        actor,
        action="update",
        entity=entity,
        entity_id=target_id,
        changes=redact_changes(type(target), changes),
    )
    return changes
