"""What the alerts API returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    metric: str
    label_en: str
    label_ru: str
    day: date
    value: float
    expected: float
    z_score: float
    change_pct: float | None
    breakdown: str | None
    segments: list[dict[str, Any]]
    detected_at: datetime


class AlertsPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AlertOut]
