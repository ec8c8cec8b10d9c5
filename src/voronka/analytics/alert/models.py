"""Alerts: a metric that dropped sharply on a day, and the segments that explain the drop."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka import clock
from voronka.db.base import Base, IdMixin, WorkspaceMixin
from voronka.db.columns import JsonType, pd
from voronka.db.types import UTCDateTime


class MetricAlert(IdMixin, WorkspaceMixin, Base):
    """A company-wide drop of ``metric`` on local ``day`` against the same weekdays before.

    ``expected`` is the median of the comparison days, ``z_score`` the robust z-score of the
    day (median/MAD), ``segments`` the breakdown rows that explain most of the change:
    ``[{"key", "label", "value", "expected", "change", "share"}]``.
    """

    __tablename__ = "metric_alert"
    __table_args__ = (
        UniqueConstraint("workspace_id", "metric", "day"),
        Index("ix_metric_alert_day", "day"),
    )

    metric: Mapped[str] = mapped_column(String(64), info=pd("none"))
    day: Mapped[date] = mapped_column(Date, info=pd("none"))
    value: Mapped[float] = mapped_column(Float, info=pd("none"))
    expected: Mapped[float] = mapped_column(Float, info=pd("none"))
    z_score: Mapped[float] = mapped_column(Float, info=pd("none"))
    change_pct: Mapped[float | None] = mapped_column(Float, info=pd("none"))
    breakdown: Mapped[str | None] = mapped_column(String(32), info=pd("none"))
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, info=pd("none"))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now,
                                                  info=pd("none"))
