"""The catalogue of reports: name → typed query, run function and the data it reads.

Each report module declares ``REPORT = Report(...)``; this module lists them. The API
(``/api/v1/analytics/<name>``), the CLI (``voronka report <name>``) and the Python API read
the catalogue, so a report added here is available everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.errors import ErrorDetail, NotFound


@dataclass(frozen=True)
class Report:
    """A report: its query model, how to run it, and which resources its facts come from.

    ``resources`` name policy resources (``deal``, ``order``, ``ad_spend``…): a user needs
    READ on each of them (with their record scope applied to the facts) to run the report.
    """

    name: str
    title_en: str
    title_ru: str
    query: type[BaseModel]
    run: Callable[[Runner, BaseModel], Result]
    resources: tuple[str, ...]
    #: Whether a query's rows are individual clients (ids, names, their figures): those are
    #: client records, so they need the right to read clients and are audited as a listing.
    lists_clients: Callable[[Any], bool] = lambda query: False


def reports() -> dict[str, Report]:
    """Every report, by name."""
    from voronka.analytics.reports import (
        calls,
        campaigns,
        clients,
        cohorts,
        dynamics,
        funnel,
        journey,
        metrics,
        scorecard,
    )

    found = [
        metrics.REPORT,
        dynamics.REPORT,
        funnel.REPORT,
        scorecard.REPORT,
        calls.REPORT,
        clients.REPORT,
        cohorts.REPORT,
        campaigns.REPORT,
        journey.REPORT,
    ]
    from voronka.analytics.basket import report as basket

    found.append(basket.REPORT)
    from voronka.analytics.forecast import pipeline, sales, stock

    found += [sales.REPORT, pipeline.REPORT, stock.REPORT]
    from voronka.analytics.experiment import report as experiment

    found.append(experiment.REPORT)
    from voronka.analytics.alert import report as alerts

    found.append(alerts.REPORT)
    from voronka.analytics.attribution import report as attribution

    found.append(attribution.REPORT)
    from voronka.analytics.ltv import report as ltv
    from voronka.analytics.segment import report as segment

    found += [ltv.REPORT, segment.REPORT]
    return {report.name: report for report in found}


def get(name: str) -> Report:
    report = reports().get(name)
    if report is None:
        raise NotFound(
            f"no report {name!r}; reports: {', '.join(sorted(reports()))}",
            [ErrorDetail("unknown report", field="report", value=name[:64])],
        )
    return report
