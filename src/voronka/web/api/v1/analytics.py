"""Reports: the catalogue, the metric registry, and running any report as the caller."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from voronka.access.policy import Action
from voronka.analytics import catalog
from voronka.analytics import service as analytics_service
from voronka.analytics.metrics.registry import METRICS
from voronka.analytics.result import Result
from voronka.web.deps import DbSession, Grant, grant

router = APIRouter(tags=["analytics"])
Reader = Annotated[Grant, grant("report", Action.READ)]


class ReportInfo(BaseModel):
    name: str
    title_en: str
    title_ru: str
    query_schema: dict[str, Any]


class MetricInfo(BaseModel):
    slug: str
    label_en: str
    label_ru: str
    unit: str
    formula: str
    measures: list[str]
    higher_is_better: bool


@router.get(
    "/analytics/reports",
    response_model=list[ReportInfo],
    summary="Reports and the JSON schema of each one's query",
)
def list_reports(g: Reader) -> list[ReportInfo]:
    return [
        ReportInfo(
            name=r.name,
            title_en=r.title_en,
            title_ru=r.title_ru,
            query_schema=r.query.model_json_schema(),
        )
        for r in catalog.reports().values()
    ]


@router.get(
    "/analytics/metrics-registry",
    response_model=list[MetricInfo],
    summary="Every metric: labels in Russian and English, unit and formula",
)
def metric_registry(g: Reader) -> list[MetricInfo]:
    return [
        MetricInfo(
            slug=m.slug,
            label_en=m.label_en,
            label_ru=m.label_ru,
            unit=m.unit.value,
            formula=m.formula,
            measures=list(m.measures),
            higher_is_better=m.higher_is_better,
        )
        for m in METRICS.values()
    ]


@router.get(
    "/analytics/drilldown",
    response_model=Result,
    summary="The records behind one figure (ids), within your scope",
    responses={
        400: {"description": "q is not a JSON object"},
        403: {"description": "Your role may not read these records"},
        422: {"description": "Invalid query; details name the field"},
    },
)
def drill_down(
    session: DbSession,
    g: Reader,
    q: Annotated[str, Query(max_length=20_000, description="DrilldownQuery as JSON.")] = "{}",
) -> Result:
    return analytics_service.drill(session, g.actor, q)


@router.get(
    "/analytics/funnel/dropped",
    response_model=Result,
    summary="The deals that reached the step before `step` but not `step`, within your scope",
    responses={
        400: {"description": "q is not a JSON object"},
        403: {"description": "Your role may not read deals"},
        422: {"description": "Invalid query; details name the field"},
    },
)
def funnel_dropped(
    session: DbSession,
    g: Reader,
    step: Annotated[int, Query(ge=2, le=20, description="The step the deals did not reach.")],
    q: Annotated[str, Query(max_length=20_000, description="FunnelQuery as JSON.")] = "{}",
    key: int | None = None,
    cohort: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Result:
    return analytics_service.funnel_dropped(
        session, g.actor, q, step=step, key=key, cohort=cohort, limit=limit
    )


@router.get(
    "/analytics/{name}",
    response_model=Result,
    summary="Run a report",
    responses={
        400: {"description": "q is not a JSON object"},
        403: {"description": "The report needs data your role may not read"},
        404: {"description": "No such report"},
        422: {"description": "Invalid query; details name the field"},
    },
)
def run_report(
    name: str,
    session: DbSession,
    g: Reader,
    q: Annotated[
        str,
        Query(
            max_length=20_000, description="The report's query as JSON (see /analytics/reports)."
        ),
    ] = "{}",
) -> Result:
    return analytics_service.run(session, g.actor, name, q)
