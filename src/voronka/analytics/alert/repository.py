"""Queries on stored alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voronka.analytics.alert.models import MetricAlert


def exists(session: Session, workspace_id: int, metric: str, day: date) -> bool:
    return session.scalar(select(MetricAlert.id).where(
        MetricAlert.workspace_id == workspace_id, MetricAlert.metric == metric,
        MetricAlert.day == day)) is not None


def newest(session: Session, workspace_id: int, *, limit: int, offset: int,
           metric: str | None = None) -> tuple[int, Sequence[MetricAlert]]:
    """Alerts newest day first, and how many there are."""
    query = select(MetricAlert).where(MetricAlert.workspace_id == workspace_id)
    if metric is not None:
        query = query.where(MetricAlert.metric == metric)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(MetricAlert.day.desc(), MetricAlert.metric)
                           .limit(limit).offset(offset)).all()
    return total, rows
