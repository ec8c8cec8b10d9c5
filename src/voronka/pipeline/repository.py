"""Queries on pipelines and stages (reference data: every role of the workspace reads them)."""

from __future__ import annotations

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, selectinload

from voronka.access.actor import Actor
from voronka.deal.models import DealStageChange
from voronka.pipeline.models import Pipeline, Stage


def of_workspace(actor: Actor, *, include_archived: bool = False) -> Select[Pipeline]:
    """Pipelines of the actor's workspace with their stages loaded."""
    query = (
        select(Pipeline)
        .where(Pipeline.workspace_id == actor.workspace_id)
        .options(selectinload(Pipeline.stages))
    )
    if not include_archived:
        query = query.where(Pipeline.is_archived.is_(False))
    return query


def get(session: Session, actor: Actor, pipeline_id: int) -> Pipeline | None:
    """The pipeline of the actor's workspace with this id, archived or not."""
    return session.scalar(
        of_workspace(actor, include_archived=True).where(Pipeline.id == pipeline_id)
    )


def get_stage(session: Session, actor: Actor, stage_id: int) -> Stage | None:
    """The stage of the actor's workspace with this id, archived or not."""
    return session.scalar(
        select(Stage).where(Stage.id == stage_id, Stage.workspace_id == actor.workspace_id)
    )


def default_pipeline(session: Session, actor: Actor) -> Pipeline | None:
    """The active pipeline marked default, else the first active one by position."""
    return session.scalar(
        of_workspace(actor)
        .order_by(Pipeline.is_default.desc(), Pipeline.position, Pipeline.id)
        .limit(1)
    )


def other_defaults(session: Session, actor: Actor, pipeline_id: int) -> list[Pipeline]:
    """Pipelines other than ``pipeline_id`` that are marked default."""
    return list(
        session.scalars(
            select(Pipeline).where(
                Pipeline.workspace_id == actor.workspace_id,
                Pipeline.is_default.is_(True),
                Pipeline.id != pipeline_id,
            )
        )
    )


def next_position(session: Session, actor: Actor) -> int:
    """The position after the last pipeline of the workspace."""
    last = session.scalar(
        select(func.max(Pipeline.position)).where(Pipeline.workspace_id == actor.workspace_id)
    )
    return 0 if last is None else last + 1


def ever_entered(session: Session, stage_id: int) -> bool:
    """Whether any deal has ever been in the stage (its history refers to it)."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    (DealStageChange.to_stage_id == stage_id)
                    | (DealStageChange.from_stage_id == stage_id)
                )
            )
        )
    )


def stage_names(session: Session, stage_ids: set[int]) -> dict[int, str]:
    """Names of the given stages by id."""
    if not stage_ids:
        return {}
    rows = session.execute(select(Stage.id, Stage.name).where(Stage.id.in_(stage_ids)))
    return {row[0]: row[1] for row in rows}
