"""Pipeline rules: creation with stages, changes, stage add/update/reorder/archive, the board.

Every pipeline keeps at least one active open, one won and one lost stage. Active stages are
numbered 0..n-1 in order; archived stages follow them. Any change to a pipeline's stages
bumps the pipeline's version, so its ETag guards the whole structure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.audit import service as audit
from voronka.deal import repository as deal_repository
from voronka.deal.repository import DealFilter
from voronka.errors import Conflict, ErrorDetail, InvalidInput
from voronka.pipeline import repository
from voronka.pipeline.models import Pipeline, Stage, StageKind
from voronka.pipeline.schemas import (
    Board,
    BoardColumn,
    BoardDeal,
    MoneyTotal,
    PipelineCreate,
    PipelineUpdate,
    StageAdd,
    StageIn,
    StageOrder,
    StageUpdate,
)

REQUIRED_KINDS = (StageKind.OPEN, StageKind.WON, StageKind.LOST)


class PipelineIncomplete(Conflict):
    """The change would leave the pipeline without an active open, won or lost stage."""

    code = "pipeline_incomplete"


class HasOpenDeals(Conflict):
    code = "has_open_deals"


def active_stages(pipeline: Pipeline) -> list[Stage]:
    """The pipeline's stages that are not archived, in order."""
    return [s for s in pipeline.stages if not s.is_archived]


def _missing_kinds(kinds: Iterable[StageKind]) -> list[str]:
    present = set(kinds)
    return [kind.value for kind in REQUIRED_KINDS if kind not in present]


def _require_complete(stages: Iterable[Stage], *, field: str) -> None:
    missing = _missing_kinds(s.kind for s in stages)
    if missing:
        raise PipelineIncomplete(
            f"a pipeline needs at least one open, one won and one lost stage; "
            f"this would leave no {' or '.join(missing)} stage",
            [ErrorDetail(f"no {kind} stage would remain", field=field) for kind in missing],
        )


def _default_probability(data: StageIn) -> int:
    if data.probability is not None:
        return data.probability
    return 100 if data.kind is StageKind.WON else 0


def _new_stage(actor: Actor, data: StageIn) -> Stage:
    return Stage(
        workspace_id=actor.workspace_id,
        name=data.name,
        kind=data.kind,
        probability=_default_probability(data),
        position=0,
    )


def _renumber(pipeline: Pipeline, ordered_active: list[Stage]) -> None:
    """Give active stages positions 0..n-1 in this order; archived stages follow."""
    archived = [s for s in pipeline.stages if s.is_archived]
    for position, stage in enumerate([*ordered_active, *archived]):
        stage.position = position


def _touch(session: Session, pipeline: Pipeline) -> None:
    pipeline.updated_at = clock.now()  # bump the version even when only stages changed
    session.flush()
    session.refresh(pipeline, ["stages"])


def _make_only_default(session: Session, actor: Actor, pipeline: Pipeline) -> None:
    for other in repository.other_defaults(session, actor, pipeline.id):
        other.is_default = False


def create(session: Session, *, actor: Actor, data: PipelineCreate) -> Pipeline:
    """Create a pipeline and its stages (in the given order) in one go."""
    missing = _missing_kinds(s.kind for s in data.stages)
    if missing:
        raise InvalidInput(
            "a pipeline needs at least one open, one won and one lost stage",
            [ErrorDetail(f"add a {kind} stage", field="stages") for kind in missing],
        )
    pipeline = Pipeline(
        workspace_id=actor.workspace_id,
        name=data.name,
        strict_order=data.strict_order,
        is_default=data.is_default,
        position=repository.next_position(session, actor),
    )
    for position, item in enumerate(data.stages):
        stage = _new_stage(actor, item)
        stage.position = position
        pipeline.stages.append(stage)
    session.add(pipeline)
    session.flush()
    if data.is_default:
        _make_only_default(session, actor, pipeline)
    audit.record(
        session,
        actor,
        action="create",
        entity="pipeline",
        entity_id=pipeline.id,
        detail={"stage_ids": [s.id for s in pipeline.stages]},
    )
    return pipeline


def _check_can_archive(session: Session, actor: Actor, pipeline: Pipeline) -> None:
    open_deals = deal_repository.count_open_in(session, actor, pipeline_id=pipeline.id)
    if open_deals:
        raise HasOpenDeals(
            f"the pipeline still has {open_deals} open deal(s); move or close them first",
            [ErrorDetail(f"{open_deals} open deal(s)", field="is_archived")],
        )


def update_pipeline(
    session: Session, *, actor: Actor, pipeline: Pipeline, data: PipelineUpdate
) -> Pipeline:
    """Apply the fields set in ``data``; an archived pipeline stops being the default."""
    fields = data.model_dump(exclude_unset=True)
    for name, value in fields.items():
        if value is None:
            raise InvalidInput(f"{name} cannot be null", [ErrorDetail("required", field=name)])
    if fields.get("is_default") and fields.get("is_archived", pipeline.is_archived):
        raise InvalidInput(
            "an archived pipeline cannot be the default",
            [ErrorDetail("archived", field="is_default")],
        )
    if fields.get("is_archived") and not pipeline.is_archived:
        _check_can_archive(session, actor, pipeline)
        fields["is_default"] = False
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in fields.items():
        if getattr(pipeline, name) != value:
            changes[name] = (getattr(pipeline, name), value)
            setattr(pipeline, name, value)
    if not changes:
        return pipeline
    if fields.get("is_default"):
        _make_only_default(session, actor, pipeline)
    session.flush()
    audit.record(
        session,
        actor,
        action="update",
        entity="pipeline",
        entity_id=pipeline.id,
        changes=audit.redact_changes(Pipeline, changes),
    )
    return pipeline


def _insert_index(active: list[Stage], data: StageAdd) -> int:
    if data.position is not None:
        return min(data.position, len(active))
    if data.kind is not StageKind.OPEN:
        return len(active)
    open_indexes = [i for i, s in enumerate(active) if s.kind is StageKind.OPEN]
    return open_indexes[-1] + 1 if open_indexes else 0


def add_stage(session: Session, *, actor: Actor, pipeline: Pipeline, data: StageAdd) -> Stage:
    """Insert a stage into the pipeline (see ``StageAdd.position`` for where)."""
    active = active_stages(pipeline)
    stage = _new_stage(actor, data)
    pipeline.stages.append(stage)
    active.insert(_insert_index(active, data), stage)
    _renumber(pipeline, active)
    _touch(session, pipeline)
    audit.record(
        session,
        actor,
        action="create",
        entity="stage",
        entity_id=stage.id,
        detail={"pipeline_id": pipeline.id, "kind": stage.kind.value},
    )
    return stage


def stage_of(pipeline: Pipeline, stage_id: int) -> Stage | None:
    return next((s for s in pipeline.stages if s.id == stage_id), None)


def _check_kind_change(session: Session, pipeline: Pipeline, stage: Stage, kind: StageKind) -> None:
    if repository.ever_entered(session, stage.id):
        raise Conflict(
            "deals have been in this stage, so its kind cannot change (their history would "
            "change meaning); archive it and add a new stage instead",
            [ErrorDetail("stage already used", field="kind")],
        )
    others = [s for s in active_stages(pipeline) if s.id != stage.id]
    kinds = [s.kind for s in others] + ([] if stage.is_archived else [kind])
    missing = _missing_kinds(kinds)
    if missing:
        raise PipelineIncomplete(
            f"this would leave the pipeline without a {' or '.join(missing)} stage",
            [ErrorDetail("pipeline would be incomplete", field="kind")],
        )


def update_stage(
    session: Session, *, actor: Actor, pipeline: Pipeline, stage: Stage, data: StageUpdate
) -> Stage:
    """Rename a stage, change its probability, or (while unused) its kind."""
    fields = data.model_dump(exclude_unset=True)
    for name, value in fields.items():
        if value is None:
            raise InvalidInput(f"{name} cannot be null", [ErrorDetail("required", field=name)])
    if "kind" in fields and fields["kind"] != stage.kind:
        _check_kind_change(session, pipeline, stage, fields["kind"])
    changes = {
        name: (getattr(stage, name), value)
        for name, value in fields.items()
        if getattr(stage, name) != value
    }
    if not changes:
        return stage
    for name, (_, value) in changes.items():
        setattr(stage, name, value)
    _touch(session, pipeline)
    audit.record(
        session,
        actor,
        action="update",
        entity="stage",
        entity_id=stage.id,
        changes=audit.redact_changes(Stage, changes),
        detail={"pipeline_id": pipeline.id},
    )
    return stage


def reorder_stages(
    session: Session, *, actor: Actor, pipeline: Pipeline, data: StageOrder
) -> Pipeline:
    """Put the active stages in the given order (the list must name each exactly once)."""
    active = {s.id: s for s in active_stages(pipeline)}
    if sorted(data.stage_ids) != sorted(active):
        raise InvalidInput(
            "stage_ids must list every active stage of the pipeline exactly once",
            [ErrorDetail(f"expected the ids {sorted(active)}", field="stage_ids")],
        )
    _renumber(pipeline, [active[stage_id] for stage_id in data.stage_ids])
    _touch(session, pipeline)
    audit.record(
        session,
        actor,
        action="reorder",
        entity="pipeline",
        entity_id=pipeline.id,
        detail={"stage_ids": data.stage_ids},
    )
    return pipeline


def archive_stage(session: Session, *, actor: Actor, pipeline: Pipeline, stage: Stage) -> Stage:
    """Hide a stage from new moves; refused while it holds open deals."""
    if stage.is_archived:
        return stage
    open_deals = deal_repository.count_open_in(session, actor, stage_ids=[stage.id])
    if open_deals:
        raise HasOpenDeals(
            f"stage {stage.name!r} still has {open_deals} open deal(s); move them first",
            [ErrorDetail(f"{open_deals} open deal(s)", field="stage_id")],
        )
    active = [s for s in active_stages(pipeline) if s.id != stage.id]
    _require_complete(active, field="stage_id")
    stage.is_archived = True
    _renumber(pipeline, active)
    _touch(session, pipeline)
    audit.record(
        session,
        actor,
        action="archive",
        entity="stage",
        entity_id=stage.id,
        detail={"pipeline_id": pipeline.id},
    )
    return stage


def board(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    pipeline: Pipeline,
    owner_id: int | None,
    per_stage: int,
) -> Board:
    """Per active stage: how many visible deals, their exact sums per currency, the newest."""
    visible = deal_repository.filtered(
        session, deal_repository.visible_to(actor, scope), DealFilter(owner_id=owner_id)
    )
    counts: dict[int, int] = defaultdict(int)
    sums: dict[int, list[MoneyTotal]] = defaultdict(list)
    for stage_id, currency, count, total in deal_repository.stage_totals(
        session, visible, pipeline.id
    ):
        counts[stage_id] += count
        sums[stage_id].append(MoneyTotal(currency=currency, amount=Decimal(total)))
    cards: dict[int, list[BoardDeal]] = defaultdict(list)
    for deal in deal_repository.newest_per_stage(session, visible, pipeline.id, per_stage):
        cards[deal.stage_id].append(BoardDeal.model_validate(deal))
    columns = [
        BoardColumn(
            stage_id=stage.id,
            name=stage.name,
            kind=stage.kind,
            probability=stage.probability,
            count=counts[stage.id],
            amounts=sums[stage.id],
            deals=cards[stage.id],
        )
        for stage in active_stages(pipeline)
    ]
    return Board(pipeline_id=pipeline.id, owner_id=owner_id, columns=columns)
