"""Deal rules: creation, changes, reassignment, moves between stages and their history.

Every stage a deal enters is appended to ``deal_stage_change`` in the same transaction as
the change of the deal itself; the deal's ``status``, ``stage_entered_at`` and ``closed_at``
are kept in step with its current stage. The transition rules are in docs/pipelines.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.access.scope import check_owner
from voronka.audit import service as audit
from voronka.campaign.models import Campaign, Channel
from voronka.client import repository as client_repository
from voronka.config import get_settings
from voronka.db.types import CENT
from voronka.deal import repository
from voronka.deal.models import Deal, DealStageChange, DealStatus
from voronka.deal.schemas import DealCreate, DealHistory, DealMove, DealUpdate, StageStay
from voronka.errors import (
    Conflict,
    ErrorDetail,
    Forbidden,
    InvalidInput,
    TransitionNotAllowed,
)
from voronka.pipeline import repository as pipeline_repository
from voronka.pipeline.models import Pipeline, Stage, StageKind
from voronka.pipeline.service import active_stages

NOT_NULLABLE = frozenset({"title", "client_id", "amount", "currency", "custom_fields"})


class ReopenNotAllowed(Forbidden):
    code = "reopen_not_allowed"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [ErrorDetail(message, field=field)])


def _refused(field: str, message: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(message, [ErrorDetail(message, field=field)])


def new_deal(actor: Actor, data: DealCreate, *, owner_id: int | None, channel_id: int | None,
             stage: Stage, at: datetime) -> Deal:
    """The deal ``data`` describes, in ``stage`` since ``at``, not yet stored; the caller has
    checked the client, owner, marketing source, stage and external id."""
    deal = Deal(
        workspace_id=actor.workspace_id,
        title=data.title,
        client_id=data.client_id,
        owner_id=owner_id,
        amount=data.amount.quantize(CENT),
        currency=data.currency or get_settings().default_currency,
        channel_id=channel_id,
        campaign_id=data.campaign_id,
        external_id=data.external_id,
        expected_close_on=data.expected_close_on,
        custom_fields=data.custom_fields,
        created_by_id=actor.user_id,
        created_at=at,
    )
    _enter(deal, stage, at, data.lost_reason)
    return deal


def _check_external_id(
    session: Session, actor: Actor, external_id: str | None, deal_id: int | None = None
) -> None:
    if external_id is None:
        return
    holder = repository.holder_of_external_id(session, actor.workspace_id, external_id)
    if holder is not None and holder != deal_id:
        message = f"deal {holder} already has external id {external_id!r}"
        raise Conflict(message, [ErrorDetail(message, field="external_id")])


def _check_client(session: Session, actor: Actor, scope: Scope, client_id: int) -> None:
    """Refuse a client the actor may not see, exactly as one that does not exist."""
    if client_repository.get_visible(session, actor, scope, client_id) is None:
        raise _invalid("client_id", "no such client")


def _check_owner(session: Session, actor: Actor, scope: Scope, owner_id: int | None) -> None:
    check_owner(session, actor, scope, owner_id, refusal="you may not give a deal to that owner")


def _marketing_source(
    session: Session, actor: Actor, channel_id: int | None, campaign_id: int | None
) -> int | None:
    """Check the channel and campaign exist and agree; return the channel (the campaign's
    own channel when only a campaign is given)."""
    if channel_id is not None:
        channel = session.get(Channel, channel_id)
        if channel is None or channel.workspace_id != actor.workspace_id:
            raise _invalid("channel_id", "no such channel")
    if campaign_id is None:
        return channel_id
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.workspace_id != actor.workspace_id:
        raise _invalid("campaign_id", "no such campaign")
    if channel_id is not None and campaign.channel_id != channel_id:
        raise _invalid("campaign_id", "the campaign belongs to another channel")
    return campaign.channel_id


def _check_lost_reason(stage: Stage, lost_reason: str | None) -> None:
    if stage.kind is StageKind.LOST and not lost_reason:
        raise _invalid("lost_reason", "required when the deal goes into a lost stage")
    if stage.kind is not StageKind.LOST and lost_reason is not None:
        raise _invalid("lost_reason", "only a deal going into a lost stage has a lost reason")


def _check_open_for_entry(pipeline: Pipeline, stage: Stage) -> None:
    if pipeline.is_archived:
        raise _refused("pipeline_id", f"pipeline {pipeline.name!r} is archived")
    if stage.is_archived:
        raise _refused("stage_id", f"stage {stage.name!r} is archived")


def _starting_stage(
    session: Session, actor: Actor, pipeline_id: int | None, stage_id: int | None
) -> Stage:
    """The stage a new deal starts in: the one given, else the pipeline's first open stage."""
    if stage_id is not None:
        stage = pipeline_repository.get_stage(session, actor, stage_id)
        if stage is None:
            raise _invalid("stage_id", "no such stage")
        if pipeline_id is not None and stage.pipeline_id != pipeline_id:
            raise _invalid("stage_id", f"not a stage of pipeline {pipeline_id}")
        _check_open_for_entry(stage.pipeline, stage)
        return stage
    if pipeline_id is not None:
        pipeline = pipeline_repository.get(session, actor, pipeline_id)
        if pipeline is None:
            raise _invalid("pipeline_id", "no such pipeline")
    else:
        pipeline = pipeline_repository.default_pipeline(session, actor)
        if pipeline is None:
            raise _invalid("pipeline_id", "there is no active pipeline; create one first")
    first_open = next((s for s in active_stages(pipeline) if s.kind is StageKind.OPEN), None)
    if first_open is None:
        raise _invalid("pipeline_id", "the pipeline has no open stage")
    _check_open_for_entry(pipeline, first_open)
    return first_open


def _enter(deal: Deal, stage: Stage, at: datetime, lost_reason: str | None) -> None:
    """Put the deal into ``stage`` and keep status, closed_at and lost_reason in step."""
    deal.pipeline_id = stage.pipeline_id
    deal.stage_id = stage.id
    deal.stage_entered_at = at
    deal.status = DealStatus(stage.kind.value)
    deal.closed_at = None if stage.kind is StageKind.OPEN else at
    deal.lost_reason = lost_reason if stage.kind is StageKind.LOST else None


def _append_change(
    session: Session, actor: Actor, deal: Deal, from_stage_id: int | None, at: datetime
) -> None:
    session.add(
        DealStageChange(
            workspace_id=deal.workspace_id,
            deal_id=deal.id,
            from_stage_id=from_stage_id,
            to_stage_id=deal.stage_id,
            changed_at=at,
            changed_by_id=actor.user_id,
        )
    )


def create(session: Session, *, actor: Actor, scope: Scope, data: DealCreate) -> Deal:
    """Create a deal of a visible client and record its entry into the starting stage."""
    _check_client(session, actor, scope, data.client_id)
    owner_id = data.owner_id if "owner_id" in data.model_fields_set else actor.user_id
    _check_owner(session, actor, scope, owner_id)
    channel_id = _marketing_source(session, actor, data.channel_id, data.campaign_id)
    stage = _starting_stage(session, actor, data.pipeline_id, data.stage_id)
    _check_lost_reason(stage, data.lost_reason)
    _check_external_id(session, actor, data.external_id)
    now = clock.now()
    deal = new_deal(actor, data, owner_id=owner_id, channel_id=channel_id, stage=stage, at=now)
    session.add(deal)
    session.flush()
    _append_change(session, actor, deal, None, now)
    session.flush()
    audit.record(
        session,
        actor,
        action="create",
        entity="deal",
        entity_id=deal.id,
        detail={"client_id": deal.client_id, "stage_id": deal.stage_id},
    )
    return deal


def _check_update(
    session: Session, actor: Actor, scope: Scope, deal: Deal, fields: dict[str, Any]
) -> None:
    nulls = sorted(name for name in NOT_NULLABLE if name in fields and fields[name] is None)
    if nulls:
        raise _invalid(nulls[0], "cannot be null")
    if "owner_id" in fields and fields["owner_id"] != deal.owner_id:
        reassign = scope_for(actor, "deal", Action.REASSIGN)
        if reassign is Scope.NONE:
            raise Forbidden(
                "your role may not reassign deals", [ErrorDetail("not allowed", field="owner_id")]
            )
        _check_owner(session, actor, reassign, fields["owner_id"])
    if fields.get("client_id") not in (None, deal.client_id):
        _check_client(session, actor, scope, fields["client_id"])
    if "external_id" in fields:
        _check_external_id(session, actor, fields["external_id"], deal.id)
    if "lost_reason" in fields and deal.status is not DealStatus.LOST:
        raise _invalid("lost_reason", "only a lost deal has a lost reason")
    if "lost_reason" in fields and not fields["lost_reason"]:
        raise _invalid("lost_reason", "a lost deal needs a lost reason")


def update_deal(
    session: Session, *, actor: Actor, scope: Scope, deal: Deal, data: DealUpdate
) -> Deal:
    """Apply the fields set in ``data``; changing the owner needs the reassign right."""
    fields = data.model_dump(exclude_unset=True)
    _check_update(session, actor, scope, deal, fields)
    if "channel_id" in fields or "campaign_id" in fields:
        fields["channel_id"] = _marketing_source(
            session,
            actor,
            fields.get("channel_id", deal.channel_id),
            fields.get("campaign_id", deal.campaign_id),
        )
    if fields.get("amount") is not None:
        fields["amount"] = fields["amount"].quantize(CENT)
    audit.apply_changes(session, actor, deal, fields, entity="deal")
    return deal


def soft_delete(session: Session, *, actor: Actor, deal: Deal) -> None:
    """Hide a deal everywhere; its stage history stays for analytics."""
    deal.is_deleted = True
    session.flush()
    audit.record(session, actor, action="delete", entity="deal", entity_id=deal.id)


def _target_stage(session: Session, actor: Actor, deal: Deal, data: DealMove) -> Stage:
    """The stage to move into; another pipeline's stage only when that pipeline is named."""
    stage = pipeline_repository.get_stage(session, actor, data.stage_id)
    if stage is None:
        raise _invalid("stage_id", "no such stage")
    if data.pipeline_id is not None and stage.pipeline_id != data.pipeline_id:
        raise _invalid("pipeline_id", f"stage {stage.id} is not a stage of this pipeline")
    if stage.pipeline_id != deal.pipeline_id and data.pipeline_id is None:
        raise _refused(
            "pipeline_id",
            f"stage {stage.id} belongs to another pipeline; to move the deal into it, "
            f"send pipeline_id={stage.pipeline_id} as well",
        )
    return stage


def _check_reopen_right(actor: Actor, deal: Deal) -> None:
    if deal.status is not DealStatus.OPEN and scope_for(actor, "deal", Action.REASSIGN) is (
        Scope.NONE
    ):
        raise ReopenNotAllowed(
            f"the deal is {deal.status.value}; only a head of sales or an administrator may "
            "move it out of a won or lost stage",
            [ErrorDetail("reopening needs the reassign right", field="stage_id")],
        )


def _check_no_skipped_stage(pipeline: Pipeline, current: Stage, target: Stage) -> None:
    """In a strict pipeline an open deal may not jump over an open stage going forward."""
    open_stages = [s for s in active_stages(pipeline) if s.kind is StageKind.OPEN]
    ids = [s.id for s in open_stages]
    if current.id not in ids or target.id not in ids:
        return  # closing, reopening or leaving an archived stage: not an open-to-open move
    start, end = ids.index(current.id), ids.index(target.id)
    skipped = [s.name for s in open_stages[start + 1 : end]]
    if skipped:
        raise _refused(
            "stage_id",
            f"pipeline {pipeline.name!r} keeps strict order: the deal would skip "
            f"{', '.join(repr(name) for name in skipped)}",
        )


def _check_transition(
    session: Session, actor: Actor, deal: Deal, target: Stage, data: DealMove
) -> None:
    current = session.get_one(Stage, deal.stage_id)
    if target.id == current.id:
        raise _refused("stage_id", "the deal is already in this stage")
    _check_open_for_entry(target.pipeline, target)
    _check_reopen_right(actor, deal)
    _check_lost_reason(target, data.lost_reason)
    if target.pipeline.strict_order and target.pipeline_id == current.pipeline_id:
        _check_no_skipped_stage(target.pipeline, current, target)


def move_to_stage(session: Session, *, actor: Actor, deal: Deal, data: DealMove) -> Deal:
    """Move the deal into another stage and append the change to its history."""
    target = _target_stage(session, actor, deal, data)
    _check_transition(session, actor, deal, target, data)
    from_stage_id, from_pipeline_id = deal.stage_id, deal.pipeline_id
    now = clock.now()
    _enter(deal, target, now, data.lost_reason)
    _append_change(session, actor, deal, from_stage_id, now)
    session.flush()
    audit.record(
        session,
        actor,
        action="move",
        entity="deal",
        entity_id=deal.id,
        changes={
            "stage_id": [from_stage_id, target.id],
            "pipeline_id": [from_pipeline_id, target.pipeline_id],
        },
    )
    return deal


def history(session: Session, *, deal: Deal, limit: int) -> DealHistory:
    """The deal's stage changes in order, with how long it stayed in each stage."""
    changes = repository.history(session, deal.id, limit + 1)
    names = pipeline_repository.stage_names(session, {c.to_stage_id for c in changes})
    now = clock.now()
    items = []
    for index, change in enumerate(changes[:limit]):
        following = changes[index + 1] if index + 1 < len(changes) else None
        left_at = following.changed_at if following is not None else None
        items.append(
            StageStay(
                id=change.id,
                from_stage_id=change.from_stage_id,
                to_stage_id=change.to_stage_id,
                to_stage_name=names.get(change.to_stage_id, ""),
                changed_at=change.changed_at,
                changed_by_id=change.changed_by_id,
                left_at=left_at,
                duration_seconds=((left_at or now) - change.changed_at).total_seconds(),
            )
        )
    return DealHistory(deal_id=deal.id, items=items)
