"""Alerts: the sharp drops of company-wide metrics found by the daily job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from voronka.access.policy import Action
from voronka.analytics.alert import repository
from voronka.analytics.alert.models import MetricAlert
from voronka.analytics.alert.schemas import AlertOut, AlertsPage
from voronka.analytics.metrics.registry import METRICS
from voronka.web.deps import DbSession, Grant, grant

router = APIRouter(tags=["alerts"], responses={401: {"description": "Not signed in"}})
Read = Annotated[Grant, grant("alert", Action.READ)]


def _out(alert: MetricAlert) -> AlertOut:
    metric = METRICS.get(alert.metric)
    return AlertOut(id=alert.id, metric=alert.metric,
                    label_en=metric.label_en if metric else alert.metric,
                    label_ru=metric.label_ru if metric else alert.metric, day=alert.day,
                    value=alert.value, expected=alert.expected, z_score=alert.z_score,
                    change_pct=alert.change_pct, breakdown=alert.breakdown,
                    segments=alert.segments, detected_at=alert.detected_at)


@router.get("/alerts", response_model=AlertsPage,
            summary="Stored alerts (sharp drops of metrics), newest day first",
            responses={403: {"description": "Your role may not read company-wide alerts"}})
def list_alerts(session: DbSession, g: Read,
                metric: Annotated[str | None, Query(max_length=64)] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> AlertsPage:
    total, rows = repository.newest(session, g.actor.workspace_id, limit=limit, offset=offset,
                                    metric=metric)
    return AlertsPage(total=total, limit=limit, offset=offset, items=[_out(r) for r in rows])
