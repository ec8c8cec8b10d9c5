"""Lead scoring: a deal's score with its explanation, open deals by score, model runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from voronka.access.policy import Action
from voronka.analytics.scoring import repository
from voronka.analytics.scoring.models import DealScore, ModelRun
from voronka.analytics.scoring.schemas import (
    DealScoreOut,
    ModelRunOut,
    RetrainQueued,
    ScoredDeals,
)
from voronka.analytics.scoring.tasks import RETRAIN
from voronka.deal.models import Deal
from voronka.errors import NotFound
from voronka.jobs import enqueue
from voronka.web.deps import DbSession, Grant, grant

router = APIRouter(tags=["scoring"], responses={401: {"description": "Not signed in"}})
ReadDeals = Annotated[Grant, grant("deal", Action.READ)]
ReadRuns = Annotated[Grant, grant("model_run", Action.READ)]
Retrain = Annotated[Grant, grant("model_run", Action.CREATE)]
Responses = dict[int | str, dict[str, Any]]
FORBIDDEN: Responses = {403: {"description": "Your role may not do this"}}


def _score(deal: Deal, score: DealScore, run: ModelRun) -> DealScoreOut:
    return DealScoreOut(deal_id=deal.id, title=deal.title, status=deal.status.value,
                        owner_id=deal.owner_id, probability=score.probability,
                        contributions=score.contributions, model_run_id=run.id,
                        model_version=run.version, scored_at=score.scored_at)


@router.get("/scoring/deals/{deal_id}", response_model=DealScoreOut,
            summary="A deal's probability to be won, explained feature by feature",
            responses={**FORBIDDEN, 404: {"description": "No such deal visible to you, or "
                                          "no score for it (closed, or newer than the model)"}})
def deal_score(deal_id: int, session: DbSession, g: ReadDeals) -> DealScoreOut:
    run = repository.latest_run(session, g.actor.workspace_id)
    found = run and repository.score_of(session, g.actor, g.scope, deal_id, run.id)
    if not run or not found:
        raise NotFound("no score for this deal")
    return _score(*found, run)


@router.get("/scoring/deals", response_model=ScoredDeals,
            summary="Open deals you may see, the most likely to be won first",
            responses=FORBIDDEN)
def open_deals(session: DbSession, g: ReadDeals,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ScoredDeals:
    run = repository.latest_run(session, g.actor.workspace_id)
    if run is None:
        return ScoredDeals(total=0, limit=limit, offset=offset, model_run_id=None, items=[])
    total, rows = repository.open_deals_by_score(session, g.actor, g.scope, run.id,
                                                 limit=limit, offset=offset)
    return ScoredDeals(total=total, limit=limit, offset=offset, model_run_id=run.id,
                       items=[_score(deal, score, run) for deal, score in rows])


@router.get("/scoring/runs/latest", response_model=ModelRunOut,
            summary="The newest lead-scoring run: backtest (AUC, Brier, log loss, lift by "
            "decile, calibration) and effects",
            responses={**FORBIDDEN, 404: {"description": "No model trained yet"}})
def latest_run(session: DbSession, g: ReadRuns) -> ModelRunOut:
    run = repository.latest_run(session, g.actor.workspace_id, status=None)
    if run is None:
        raise NotFound("no lead-scoring model has been trained yet")
    return ModelRunOut(id=run.id, kind=run.kind, version=run.version, status=run.status.value,
                       started_at=run.started_at, trained_at=run.trained_at,
                       training_rows=run.training_rows, scored_rows=run.scored_rows,
                       metrics=run.metrics, error=run.error)


@router.post("/scoring/retrain", response_model=RetrainQueued, status_code=202,
             summary="Queue a retrain of the lead scorer (runs in the background)",
             responses=FORBIDDEN)
def retrain(session: DbSession, g: Retrain) -> RetrainQueued:
    queued = repository.pending_job(session, RETRAIN)
    if queued is None:
        queued = enqueue(session, RETRAIN, {"workspace_id": g.actor.workspace_id,
                                             "created_by_id": g.actor.user_id},
                         workspace_id=g.actor.workspace_id, created_by_id=g.actor.user_id)
    return RetrainQueued(job_id=queued)
