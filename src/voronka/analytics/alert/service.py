"""Checking yesterday for sharp drops and keeping the alerts, for the UI to list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from voronka import clock
from voronka.analytics.alert import repository
from voronka.analytics.alert.models import MetricAlert
from voronka.analytics.alert.report import AlertsQuery, run
from voronka.analytics.engine import analysis_sources
from voronka.analytics.runner import Runner
from voronka.analytics.sources import utc_offset
from voronka.config import Settings


def last_complete_day(timezone: str) -> date:
    """Yesterday in the company's time zone."""
    return (clock.now() + utc_offset(timezone)).date() - timedelta(days=1)


def detect_on_store(database_url: str, settings: Settings, query: AlertsQuery
                    ) -> list[dict[str, Any]]:
    """The alerting rows of the report, run company-wide on the configured engine."""
    with analysis_sources(database_url, settings) as opened:
        return [row for row in run(Runner(opened), query).rows if row["alert"]]


def store(session: Session, rows: list[dict[str, Any]], *, workspace_id: int) -> list[int]:
    """Keep each alert once per (metric, day); return the ids of the new ones."""
    created = []
    for row in rows:
        if repository.exists(session, workspace_id, row["metric"], row["day"]):
            continue
        alert = MetricAlert(workspace_id=workspace_id, metric=row["metric"], day=row["day"],
                            value=row["value"], expected=row["expected"],
                            z_score=row["z_score"], change_pct=row["change_pct"],
                            breakdown=row["breakdown"], segments=row["segments"])
        session.add(alert)
        session.flush()
        created.append(alert.id)
    return created
