"""What the lead-scoring API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Contribution(BaseModel):
    feature: str
    value: Any
    contribution: float = Field(description="Log-odds against the average deal.")


class DealScoreOut(BaseModel):
    deal_id: int
    title: str
    status: str
    owner_id: int | None
    probability: float = Field(description="Calibrated probability that the deal is won.")
    contributions: list[Contribution]
    model_run_id: int
    model_version: int
    scored_at: datetime


class ScoredDeals(BaseModel):
    total: int
    limit: int
    offset: int
    model_run_id: int | None
    items: list[DealScoreOut]


class ModelRunOut(BaseModel):
    id: int
    kind: str
    version: int
    status: str
    started_at: datetime
    trained_at: datetime | None
    training_rows: int
    scored_rows: int
    metrics: dict[str, Any] | None
    error: str | None


class RetrainQueued(BaseModel):
    job_id: int
