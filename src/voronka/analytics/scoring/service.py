"""Training the lead scorer on the engine's feature table, and keeping its results.

``train`` reads through the analytics engine only (snapshot or PostgreSQL in place), so a
retrain holds no lock on the operational store; ``record`` then writes the run, the model
file and the open deals' scores in one short transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sqlalchemy.orm import Session

from voronka import clock
from voronka.analytics.engine import analysis_sources
from voronka.analytics.runner import Runner
from voronka.analytics.scoring import repository
from voronka.analytics.scoring.backtest import backtest, quality
from voronka.analytics.scoring.features import FEATURES, HORIZON_HOURS, NUMERIC, deal_features
from voronka.analytics.scoring.model import LeadScorer
from voronka.analytics.scoring.models import ModelRun, RunStatus
from voronka.config import Settings
from voronka.errors import ErrorDetail, InvalidInput

#: Fewer closed deals than this make a model nobody should trust.
MIN_CLOSED_DEALS = 50
EXPLAINED = ("channel", "campaign", "manager")


@dataclass
class Training:
    """A fitted scorer, its figures and the scores of the open deals."""

    scorer: LeadScorer
    metrics: dict[str, Any]
    training_rows: int
    scores: list[dict[str, Any]]


def _value(feature: str, raw: Any) -> Any:
    if feature in NUMERIC:
        return round(float(raw), 4)
    return str(raw)


def explain(scorer: LeadScorer, deals: pd.DataFrame, top: int | None = None
            ) -> list[dict[str, Any]]:
    """Each deal's probability and its features' log-odds contributions, largest first."""
    if deals.empty:
        return []
    features = deals[list(FEATURES)]
    probability = scorer.predict_probability(features)
    parts = scorer.contributions(features)
    out = []
    for position, (index, deal) in enumerate(deals.iterrows()):
        row = parts.loc[index]
        ranked = sorted(FEATURES, key=lambda f: -abs(row[f]))[:top]
        out.append({
            "deal_id": int(deal["deal_id"]), "workspace_id": int(deal["workspace_id"]),
            "probability": float(probability[position]),
            "contributions": [{"feature": f, "value": _value(f, deal[f]),
                               "contribution": round(float(row[f]), 6)} for f in ranked],
        })
    return out


def train(runner: Runner, *, train_share: float = 0.8) -> Training:
    """Backtest, then fit on every closed deal and score the open ones."""
    frame = pd.DataFrame(runner.rows(deal_features(runner.sources)))
    closed = frame[frame["status"].isin(("won", "lost"))] if not frame.empty else frame
    if len(closed) < MIN_CLOSED_DEALS or closed["won"].nunique() < 2:
        raise InvalidInput(
            f"lead scoring needs at least {MIN_CLOSED_DEALS} closed deals, won and lost; "
            f"the store has {len(closed)}",
            [ErrorDetail("too few closed deals", field="deal")])
    scorer = LeadScorer().fit(closed[list(FEATURES)], closed["won"])
    fitted = scorer.predict_probability(closed[list(FEATURES)])
    won = closed["won"].to_numpy(dtype=int)
    base = float(scorer.regression_.intercept_[0]
                 + scorer.regression_.coef_[0] @ scorer.mean_encoded_)
    metrics = {
        "backtest": backtest(closed, train_share),
        "in_sample": {k: v for k, v in quality(won, fitted, scorer.base_rate_).items()
                      if k in ("deals", "won", "auc", "brier", "log_loss")},
        "base_rate": scorer.base_rate_,
        "base_log_odds": base,
        "effects": {f: scorer.category_effects(f) for f in EXPLAINED},
        "coefficients": scorer.coefficients(),
        "features": list(FEATURES),
        "horizon_hours": HORIZON_HOURS,
        "calibration": scorer.calibration,
        "engine": runner.engine,
    }
    open_deals = frame[frame["status"] == "open"]
    return Training(scorer, _plain(metrics), len(closed), explain(scorer, open_deals))


def _plain(value: Any) -> Any:
    """JSON-safe: no NaN or infinity (stored as null)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def model_dir(settings: Settings) -> Path:
    return Path(settings.analytics_dir) / "models"


def record(session: Session, training: Training, *, workspace_id: int, directory: Path,
           created_by_id: int | None = None, now: datetime | None = None) -> ModelRun:
    """Store the run, its model file and the open deals' scores (older scores are dropped)."""
    now = now or clock.now()
    version = repository.next_version(session, workspace_id)
    directory.mkdir(parents=True, exist_ok=True)
    artefact = directory / f"{repository.KIND}-w{workspace_id}-v{version}.joblib"
    joblib.dump(training.scorer, artefact)
    mine = [s for s in training.scores if s["workspace_id"] == workspace_id]
    run = ModelRun(workspace_id=workspace_id, kind=repository.KIND, version=version,
                   status=RunStatus.READY, started_at=now, trained_at=now,
                   training_rows=training.training_rows, scored_rows=len(mine),
                   metrics=training.metrics, artefact=str(artefact),
                   created_by_id=created_by_id)
    session.add(run)
    session.flush()
    repository.insert_scores(session, [
        {"workspace_id": workspace_id, "deal_id": s["deal_id"], "model_run_id": run.id,
         "probability": s["probability"], "contributions": s["contributions"],
         "scored_at": now} for s in mine])
    repository.drop_scores_except(session, workspace_id, run.id)
    return run


def record_failure(session: Session, *, workspace_id: int, error: str,
                   created_by_id: int | None = None) -> ModelRun:
    now = clock.now()
    run = ModelRun(workspace_id=workspace_id, kind=repository.KIND,
                   version=repository.next_version(session, workspace_id),
                   status=RunStatus.FAILED, started_at=now, error=error[:2000],
                   created_by_id=created_by_id)
    session.add(run)
    session.flush()
    return run


def train_on_store(database_url: str, settings: Settings) -> Training:
    """``train`` on the configured analytics engine over the store at ``database_url``."""
    with analysis_sources(database_url, settings) as opened:
        return train(Runner(opened))
