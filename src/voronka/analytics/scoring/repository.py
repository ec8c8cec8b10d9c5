"""Queries on model runs and deal scores; deal scores follow the deal's record scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.analytics.scoring.models import DealScore, ModelRun, RunStatus
from voronka.deal import repository as deal_repository
from voronka.deal.models import Deal, DealStatus

KIND = "lead_scoring"


def next_version(session: Session, workspace_id: int, kind: str = KIND) -> int:
    found = session.scalar(select(func.max(ModelRun.version)).where(
        ModelRun.workspace_id == workspace_id, ModelRun.kind == kind))
    return (found or 0) + 1


def latest_run(session: Session, workspace_id: int, kind: str = KIND,
               status: RunStatus | None = RunStatus.READY) -> ModelRun | None:
    query = select(ModelRun).where(ModelRun.workspace_id == workspace_id, ModelRun.kind == kind)
    if status is not None:
        query = query.where(ModelRun.status == status)
    return session.scalar(query.order_by(ModelRun.version.desc()).limit(1))


def runs(session: Session, workspace_id: int, limit: int, kind: str = KIND) -> Sequence[ModelRun]:
    return session.scalars(select(ModelRun).where(
        ModelRun.workspace_id == workspace_id, ModelRun.kind == kind,
    ).order_by(ModelRun.version.desc()).limit(limit)).all()


def insert_scores(session: Session, rows: list[dict[str, Any]], chunk: int = 5000) -> None:
    for start in range(0, len(rows), chunk):
        session.execute(insert(DealScore), rows[start:start + chunk])


def drop_scores_except(session: Session, workspace_id: int, run_id: int) -> None:
    """Keep only the newest run's scores (older runs keep their metrics)."""
    session.execute(delete(DealScore).where(DealScore.workspace_id == workspace_id,
                                            DealScore.model_run_id != run_id))


def score_of(session: Session, actor: Actor, scope: Scope, deal_id: int,
             run_id: int) -> tuple[Deal, DealScore] | None:
    """The deal (if the actor may see it) and its score by run ``run_id``."""
    deals = deal_repository.visible_to(actor, scope).where(Deal.id == deal_id).subquery()
    row = session.execute(
        select(Deal, DealScore).join(deals, deals.c.id == Deal.id)
        .join(DealScore, DealScore.deal_id == Deal.id)
        .where(DealScore.model_run_id == run_id)).first()
    return None if row is None else (row[0], row[1])


def open_deals_by_score(session: Session, actor: Actor, scope: Scope, run_id: int, *,
                        limit: int, offset: int) -> tuple[int, list[tuple[Deal, DealScore]]]:
    """Open deals visible to the actor, the most likely to be won first, and their count."""
    deals = deal_repository.visible_to(actor, scope).where(
        Deal.status == DealStatus.OPEN).subquery()
    base = (select(Deal, DealScore).join(deals, deals.c.id == Deal.id)
            .join(DealScore, DealScore.deal_id == Deal.id)
            .where(DealScore.model_run_id == run_id))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(DealScore.probability.desc(), Deal.id)
                           .limit(limit).offset(offset)).all()
    return total, [(r[0], r[1]) for r in rows]


def pending_job(session: Session, kind: str) -> int | None:
    """A queued or running job of ``kind``, if any (so retrains do not pile up)."""
    from voronka.jobs.models import Job, JobStatus

    return session.scalar(select(Job.id).where(
        Job.kind == kind, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
    ).order_by(Job.id).limit(1))
