"""Check an export's filter before any row is read, and resolve the words a person types.

Every mistake is one clear error naming the field: a filter the export does not take, a
status or kind it does not know, an empty or reversed period, an owner or pipeline that is
not in the workspace (422), an owner outside the caller's scope (403).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import owner_in_scope
from voronka.errors import ErrorDetail, Forbidden, InvalidInput
from voronka.pipeline.models import Pipeline
from voronka.transfer.exports.spec import ExportFilter, ExportSpec, FilterName
from voronka.transfer.exports.stream import aware
from voronka.user.models import User

FIELD_OF = {
    FilterName.OWNER: "owner_id",
    FilterName.PERIOD: "date_from",
    FilterName.PIPELINE: "pipeline_id",
    FilterName.STATUS: "status",
    FilterName.KIND: "kind",
}


def check(session: Session, actor: Actor, scope: Scope, spec: ExportSpec, f: ExportFilter) -> None:
    """Raise ``InvalidInput`` or ``Forbidden`` for a filter this export cannot apply."""
    for name in sorted(f.given() - spec.filters):
        takes = ", ".join(sorted(FIELD_OF[n] for n in spec.filters)) or "no filters"
        raise InvalidInput(
            f"{spec.entity.value} cannot be filtered by {FIELD_OF[name]} (they take: {takes})",
            [ErrorDetail("not a filter of this export", field=FIELD_OF[name])],
        )
    if f.date_from is not None and f.date_to is not None and aware(f.date_from) >= aware(f.date_to):
        raise InvalidInput(
            "date_from must be before date_to (date_to is excluded)",
            [ErrorDetail("empty period", field="date_to")],
        )
    _check_word(f.status, spec.statuses, "status", spec)
    _check_word(f.kind, spec.kinds, "kind", spec)
    if f.owner_id is not None:
        _check_owner(session, actor, scope, f.owner_id)
    if f.pipeline_id is not None:
        found = session.scalar(
            select(Pipeline.id).where(
                Pipeline.id == f.pipeline_id, Pipeline.workspace_id == actor.workspace_id
            )
        )
        if found is None:
            raise InvalidInput(
                f"no pipeline with id {f.pipeline_id}",
                [ErrorDetail("no such pipeline", field="pipeline_id")],
            )


def _check_word(value: str | None, allowed: frozenset[str], field: str, spec: ExportSpec) -> None:
    if value is not None and value not in allowed:
        raise InvalidInput(
            f"{field} of {spec.entity.value} must be one of {', '.join(sorted(allowed))}",
            [ErrorDetail(f"unknown {field}", field=field)],
        )


def _check_owner(session: Session, actor: Actor, scope: Scope, owner_id: int) -> None:
    exists = session.scalar(
        select(User.id).where(User.id == owner_id, User.workspace_id == actor.workspace_id)
    )
    if exists is None:
        raise InvalidInput(
            f"no user with id {owner_id}", [ErrorDetail("no such user", field="owner_id")]
        )
    if not owner_in_scope(session, actor, scope, owner_id):
        raise Forbidden(
            "you may not filter by that owner", [ErrorDetail("outside your scope", "owner_id")]
        )


def resolve_words(
    session: Session,
    actor: Actor,
    f: ExportFilter,
    *,
    owner_email: str | None = None,
    pipeline_name: str | None = None,
) -> ExportFilter:
    """``f`` with the owner named by e-mail and the pipeline by name turned into ids."""
    if owner_email is not None:
        owner_id = session.scalar(
            select(User.id).where(
                User.workspace_id == actor.workspace_id,
                func.lower(User.email) == owner_email.strip().lower(),
            )
        )
        if owner_id is None:
            raise InvalidInput(
                f"no user with e-mail {owner_email!r}",
                [ErrorDetail("no such user", field="owner")],
            )
        f = replace(f, owner_id=owner_id)
    if pipeline_name is not None:
        pipeline_id = session.scalar(
            select(Pipeline.id).where(
                Pipeline.workspace_id == actor.workspace_id, Pipeline.name == pipeline_name.strip()
            )
        )
        if pipeline_id is None:
            raise InvalidInput(
                f"no pipeline named {pipeline_name!r}",
                [ErrorDetail("no such pipeline", field="pipeline")],
            )
        f = replace(f, pipeline_id=pipeline_id)
    return f
