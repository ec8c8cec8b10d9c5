"""The overview: key metrics with growth, revenue dynamics, funnel, channel ROMI, alerts."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from voronka.analytics.metrics.registry import METRICS
from voronka.analytics.result import Result
from voronka.errors import VoronkaError
from voronka.web.deps import DbSession
from voronka.web.ui import analysis, charts
from voronka.web.ui.analysis import ReportFilters
from voronka.web.ui.auth import Viewer
from voronka.web.ui.pages.common import ReportReader, filter_options
from voronka.web.ui.render import UiRoute, company_wide, render
from voronka.web.ui.table import Column, Table, maybe_export

router = APIRouter(route_class=UiRoute)

SCOPED_METRICS = (
    "revenue", "leads", "won_deals", "paid_orders", "average_check", "lead_to_sale", "win_rate",
    "cycle_time",
)
SPEND_METRICS = ("ad_spend", "cpl", "romi")


def metric_slugs(viewer: Viewer) -> tuple[str, ...]:
    """Spend-based figures only for company-wide viewers (spend is not split by team)."""
    return SCOPED_METRICS + (SPEND_METRICS if company_wide(viewer) else ())


def grain_for(f: ReportFilters) -> str:
    days = (f.end - f.start).days + 1
    return "day" if days <= 62 else ("week" if days <= 190 else "month")


def metric_cards(result: Result, f: ReportFilters, language: str) -> list[dict[str, Any]]:
    measures = result.drilldown.get("measures", {})
    cards = []
    for row in result.rows:
        if row["key"] is not None:
            continue
        metric = METRICS[row["metric"]]
        first = (measures.get(metric.slug) or [None])[0]
        cards.append({
            **row,
            "label": metric.label_ru if language == "ru" else metric.label_en,
            "formula": metric.formula,
            "higher_is_better": metric.higher_is_better,
            "drill": f.drill_url(first) if first else None,
        })
    return cards


def breakdown_table(result: Result, f: ReportFilters, language: str) -> Table | None:
    if not f.breakdown:
        return None
    by_key: dict[Any, dict[str, Any]] = {}
    slugs: list[str] = []
    for row in result.rows:
        if row["key"] is None:
            continue
        entry = by_key.setdefault(row["key"], {"key": row["key"], "label": row["label"]})
        entry[row["metric"]] = row["value"]
        if row["metric"] not in slugs:
            slugs.append(row["metric"])
    kinds = {"money": "money", "percent": "percent", "count": "number"}
    columns = [Column("label", f.breakdown.replace("_", " ").capitalize())] + [
        Column(s, METRICS[s].label_ru if language == "ru" else METRICS[s].label_en,
               kinds.get(METRICS[s].unit.value, "number"), digits=1)
        for s in slugs
    ]
    measures = result.drilldown.get("measures", {})
    drill = {
        s: f.drill_url(measures[s][0], "{key}", f.breakdown).replace("%7Bkey%7D", "{key}")
        for s in slugs if measures.get(s)
    }
    return Table("breakdown", "Breakdown", columns, sorted(by_key.values(), key=lambda r: str(r["label"])), drill)


def _dynamics(session: Session, viewer: Viewer, f: ReportFilters) -> Result:
    query = f.query(metrics=["revenue"], grain=grain_for(f))
    query.pop("breakdown", None)
    return analysis.run(session, viewer, "dynamics", query)


def _funnel(session: Session, viewer: Viewer, f: ReportFilters) -> Result:
    query = f.query()
    query.pop("breakdown", None)
    return analysis.run(session, viewer, "funnel", query)


def _channels(session: Session, viewer: Viewer, f: ReportFilters) -> list[dict[str, Any]]:
    if not company_wide(viewer):
        return []
    query = f.query()
    query.pop("breakdown", None)
    result = analysis.run(session, viewer, "campaigns", query)
    return [r for r in result.rows if r["level"] == "channel"]


def _alerts(session: Session, viewer: Viewer, f: ReportFilters) -> list[dict[str, Any]] | None:
    if not analysis.available("alerts"):
        return None
    try:
        rows = analysis.run(session, viewer, "alerts", {"day": f.end.isoformat()}).rows
    except VoronkaError:  # e.g. a role without the data it needs: the overview still opens
        return None
    return [
        {**r, "label": r["label_ru"] if viewer.language == "ru" else r["label_en"]}
        for r in rows if r.get("alert")
    ][:10]


@router.get("/ui/", name="ui_overview")
def overview(request: Request, session: DbSession, g: ReportReader) -> Response:
    f = ReportFilters.from_request(request)
    viewer = g.viewer
    metrics = analysis.run(
        session, viewer, "metrics", f.query(metrics=list(metric_slugs(viewer)), compare=True)
    )
    cards = metric_cards(metrics, f, viewer.language)
    table = breakdown_table(metrics, f, viewer.language)
    funnel = _funnel(session, viewer, f)
    funnel_rows = [r for r in funnel.rows if r["key"] is None and r["cohort"] is None]
    funnel_table = Table("funnel", "Funnel", [
        Column("stage_name", "Stage"), Column("entered", "Entered", "number"),
        Column("conversion_overall_pct", "Conversion overall, %", "percent"),
    ], funnel_rows)
    channel_rows = _channels(session, viewer, f)
    channel_table = Table("channels", "Channel ROMI", [
        Column("channel", "Channel"), Column("leads", "Leads", "number"),
        Column("revenue", "Revenue", "money"), Column("spend", "Spend", "money"),
        Column("romi", "ROMI, %", "percent"),
    ], channel_rows)
    tables = [t for t in (table, funnel_table, channel_table) if t is not None]
    exported = maybe_export(request, tables, viewer.language)
    if exported is not None:
        return exported
    dynamics = _dynamics(session, viewer, f)
    return render(request, "overview.html", {
        "title": "Overview",
        "f": f,
        "options": filter_options(session, viewer),
        "cards": cards,
        "breakdown_table": table,
        "funnel_table": funnel_table,
        "channel_table": channel_table if channel_rows else None,
        "revenue_chart": charts.revenue(dynamics, viewer.language),
        "funnel_chart": charts.funnel(funnel_rows),
        "romi_chart": charts.bars(channel_rows, "channel", "romi", "ROMI, %") if channel_rows else None,
        "alerts": _alerts(session, viewer, f),
        "today": date.today(),
    })
