"""Analysis pages: funnel, channels, managers, calls, client analytics, cohorts, drill-down.

Each page runs catalogue reports through the API's analytics service as the viewer, shows
tables (exportable) and charts, the formula of every column, and links figures to the records
behind them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from voronka.analytics.result import Result
from voronka.errors import InvalidInput
from voronka.web.deps import DbSession
from voronka.web.ui import analysis, charts, i18n
from voronka.web.ui.analysis import ReportFilters
from voronka.web.ui.auth import allowed
from voronka.web.ui.pages.common import ReportReader, filter_options
from voronka.web.ui.render import UiRoute, render
from voronka.web.ui.table import Column, Table, maybe_export

router = APIRouter(route_class=UiRoute)


class Block(BaseModel):
    """One part of a report page: a chart, a table (with formulas) or summary figures."""

    kind: str
    title: str = ""
    name: str = ""
    option: dict[str, Any] | None = None
    table: Any = None
    formulas: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    height: int | None = None


def table_block(table: Table, result: Result | None = None) -> Block:
    keys = {c.key for c in table.columns}
    formulas = {k: v for k, v in (result.formula if result else {}).items() if k in keys}
    return Block(kind="table", title=table.title, table=table, formulas=formulas)


def page(
    request: Request, g: Any, session: Any, title: str, f: ReportFilters | None,
    blocks: list[Block], *, breakdowns: bool = True,
) -> Response:
    tables = [b.table for b in blocks if b.kind == "table"]
    exported = maybe_export(request, tables, g.viewer.language)
    if exported is not None:
        return exported
    return render(request, "report.html", {
        "title": title, "f": f, "blocks": blocks, "breakdowns": breakdowns,
        "options": filter_options(session, g.viewer) if f else None,
    })


@router.get("/ui/funnel")
def funnel_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    f = ReportFilters.from_request(request)
    result = analysis.run(session, g.viewer, "funnel", f.query())
    total = [r for r in result.rows if r["key"] is None and r["cohort"] is None]
    rows = [r for r in result.rows if r["cohort"] is None]
    for r in rows:
        r["dropped_link"] = (
            f"/ui/funnel/dropped?step={r['step']}&{request.url.query}"
            + (f"&key={r['key']}" if r["key"] is not None else "")
        )
    table = Table("funnel", "Funnel", [
        Column("label", "Breakdown"), Column("step", "Step", "number"),
        Column("stage_name", "Stage"), Column("entered", "Entered", "number"),
        Column("conversion_from_previous_pct", "Conversion from previous, %", "percent"),
        Column("conversion_overall_pct", "Conversion overall, %", "percent"),
        Column("dropped", "Dropped", "number"),
        Column("median_hours_in_stage", "Median hours in stage", "number", digits=1),
    ], rows, drill={"dropped": "{dropped_link}"})
    return page(request, g, session, "Funnel", f, [
        Block(kind="chart", title="Funnel", name="funnel", option=charts.funnel(total)),
        table_block(table, result),
    ])


@router.get("/ui/funnel/dropped")
def funnel_dropped(request: Request, session: DbSession, g: ReportReader) -> Response:
    from voronka.analytics import service as analytics_service

    f = ReportFilters.from_request(request)
    params = request.query_params
    step = int(params.get("step", "2")) if params.get("step", "2").isdigit() else 2
    key = int(params["key"]) if params.get("key", "").isdigit() else None
    result = analytics_service.funnel_dropped(
        session, g.actor, f.query(), step=step, key=key, cohort=None, limit=200
    )
    table = Table("dropped", "Records behind the figure",
                  [Column(c, c.replace("_", " ").capitalize()) for c in result.columns],
                  result.rows, drill={"deal_id": "/ui/deals/{deal_id}", "client_id": "/ui/clients/{client_id}"})
    return page(request, g, session, "Records behind the figure", f, [table_block(table, result)])


@router.get("/ui/channels")
def channels_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    f = ReportFilters.from_request(request)
    query = f.query()
    query.pop("breakdown", None)
    result = analysis.run(session, g.viewer, "campaigns", query)
    for r in result.rows:
        r["name"] = r["channel"] if r["level"] == "channel" else f"  · {r['campaign']}"
    table = Table("campaigns", "Channels and campaigns", [
        Column("name", "Channel"), Column("leads", "Leads", "number"),
        Column("won", "Won", "number"), Column("revenue", "Revenue", "money"),
        Column("spend", "Spend", "money"), Column("new_buyers", "New buyers", "number"),
        Column("cpl", "CPL", "money"), Column("cac", "CAC", "money"),
        Column("romi", "ROMI, %", "percent"),
    ], result.rows)
    channel_rows = [r for r in result.rows if r["level"] == "channel"]
    blocks = [
        Block(kind="chart", title="Channel ROMI", name="romi",
              option=charts.bars(channel_rows, "channel", "romi", "ROMI, %")),
        table_block(table, result),
    ]
    blocks += attribution_blocks(session, g, f)
    return page(request, g, session, "Channels & attribution", f, blocks, breakdowns=False)


def attribution_blocks(session: Any, g: Any, f: ReportFilters) -> list[Block]:
    """Attribution models side by side, when the attribution report is installed."""
    if not analysis.available("attribution"):
        return [Block(kind="missing", title="Attribution")]
    result = analysis.run(session, g.viewer, "attribution", {"period": f.period})
    models: list[str] = []
    by_channel: dict[Any, dict[str, Any]] = {}
    for r in result.rows:
        model = str(r["model"])
        if model not in models:
            models.append(model)
        row = by_channel.setdefault(r["channel_id"], {"channel": r["channel"]})
        row[f"{model}_conversions"] = r["conversions"]
        row[f"{model}_revenue"] = r["revenue"]
    conversions = Table("attribution", "Attribution", [Column("channel", "Channel")] + [
        Column(f"{m}_conversions", m.replace("_", " ").capitalize(), "number", digits=1)
        for m in models
    ], list(by_channel.values()))
    revenue = Table("attribution_revenue", "Attributed revenue", [Column("channel", "Channel")] + [
        Column(f"{m}_revenue", m.replace("_", " ").capitalize(), "money") for m in models
    ], list(by_channel.values()))
    return [table_block(conversions, result), table_block(revenue, result)]


@router.get("/ui/managers")
def managers_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    f = ReportFilters.from_request(request)
    query = f.query()
    query.pop("breakdown", None)
    result = analysis.run(session, g.viewer, "scorecard", query)
    rows = [r for r in result.rows if r["row_type"] == "manager"]
    for r in rows:
        seconds = r.get("response_median_seconds")
        r["response_minutes"] = None if seconds is None else seconds / 60
    drill = {
        "leads": f.drill_url("leads", "{manager_id}", "manager"),
        "won": f.drill_url("won", "{manager_id}", "manager"),
        "revenue": f.drill_url("revenue", "{manager_id}", "manager"),
    }
    drill = {k: v.replace("%7Bmanager_id%7D", "{manager_id}") for k, v in drill.items()}
    table = Table("scorecard", "Managers", [
        Column("manager", "Manager"), Column("team", "Team"),
        Column("leads", "Leads", "number"), Column("won", "Won", "number"),
        Column("lost", "Lost", "number"), Column("win_rate_pct", "Win rate, %", "percent"),
        Column("revenue", "Revenue", "money"), Column("paid_orders", "Paid orders", "number"),
        Column("average_check", "Average check", "money"),
        Column("response_minutes", "Response median, min", "number", digits=1),
        Column("calls", "Calls", "number"), Column("missed_calls", "Missed calls", "number"),
        Column("overdue_tasks", "Overdue tasks", "number"),
    ], rows, drill)
    return page(request, g, session, "Managers", f, [
        Block(kind="chart", title="Win rate, %", name="winrate",
              option=charts.bars(rows, "manager", "win_rate_pct", "%")),
        table_block(table, result),
    ], breakdowns=False)


@router.get("/ui/calls")
def calls_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    f = ReportFilters.from_request(request)
    query = f.query()
    query.pop("breakdown", None)
    result = analysis.run(session, g.viewer, "calls", query)
    sections: dict[str, list[dict[str, Any]]] = {}
    for r in result.rows:
        sections.setdefault(r["section"], []).append(r)
    total = (sections.get("total") or [{}])[0]
    callbacks = (sections.get("callbacks") or [{}])[0]
    fmt_items = [
        {"label": "Inbound calls", "text": total.get("inbound_calls"),
         "href": f.drill_url("inbound_calls"), "formula": result.formula.get("inbound_calls")},
        {"label": "Missed calls", "text": total.get("missed_calls"),
         "href": f.drill_url("missed_calls"), "formula": result.formula.get("missed_calls")},
        {"label": "Missed, %",
         "text": i18n.Formatter(g.viewer.language, "RUB").percent(total.get("missed_rate_pct")),
         "formula": result.formula.get("missed_rate_pct")},
        {"label": "Not called back", "text": callbacks.get("not_called_back"),
         "formula": result.formula.get("not_called_back")},
    ]
    staffing = [r for r in sections.get("staffing", []) if r.get("inbound_calls")]
    weekday_names = charts.WEEKDAYS[g.viewer.language]
    for r in staffing:
        r["day"] = weekday_names[r["weekday"] - 1]
    staffing_table = Table("staffing", "Staffing advice", [
        Column("day", "Weekday"), Column("hour", "Hour", "number"),
        Column("calls_per_hour", "Calls per hour", "number", digits=2),
        Column("agents", "Agents needed", "number"),
        Column("scheduled_agents", "Scheduled", "number"),
        Column("service_level", "Service level", "number", digits=2),
    ], staffing)
    return page(request, g, session, "Calls", f, [
        Block(kind="summary", items=fmt_items),
        Block(kind="chart", title="Calls by hour and weekday", name="heatmap",
              option=charts.heatmap(sections.get("heatmap", []), "inbound_calls", g.viewer.language)),
        Block(kind="chart", title="Missed calls", name="missed",
              option=charts.heatmap(sections.get("heatmap", []), "missed_calls", g.viewer.language)),
        table_block(staffing_table, result),
    ], breakdowns=False)


@router.get("/ui/client-analytics")
def client_analytics_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    f = ReportFilters.from_request(request)
    query = f.query()
    query.pop("breakdown", None)
    if not allowed(g.viewer, "client"):  # marketers and analysts: aggregates, no client rows
        return _client_summary_page(request, session, g, f, query)
    rating = analysis.run(session, g.viewer, "clients", {**query, "limit": 200})
    rfm = analysis.run(session, g.viewer, "clients", {**query, "section": "rfm", "limit": 5000})
    segments: dict[str, dict[str, Any]] = {}
    for r in rfm.rows:
        s = segments.setdefault(r["segment"], {"segment": r["segment"], "clients": 0, "monetary": 0.0})
        s["clients"] += 1
        s["monetary"] += r["monetary"] or 0.0
    client_link = "/ui/clients/{client_id}"
    rating_table = Table("rating", "Financial rating", [
        Column("rank", "Rank", "number"), Column("client_name", "Client", "link", client_link),
        Column("revenue", "Revenue", "money"), Column("orders", "Orders", "number"),
        Column("abc_class", "ABC class"),
        Column("revenue_share_pct", "Share of revenue, %", "percent"),
    ], rating.rows)
    segment_table = Table("segments", "Segments", [
        Column("segment", "Segment"), Column("clients", "Clients in segment", "number"),
        Column("monetary", "Revenue", "money"),
    ], sorted(segments.values(), key=lambda s: -s["clients"]))
    rfm_table = Table("rfm", "RFM map", [
        Column("client_name", "Client", "link", client_link),
        Column("recency_days", "Recency", "number"), Column("frequency", "Frequency", "number"),
        Column("monetary", "Monetary", "money"), Column("segment", "Segment"),
    ], rfm.rows[:200])
    scatter = {
        "tooltip": {"trigger": "item"},
        "xAxis": {"type": "value", "name": "R", "inverse": True},
        "yAxis": {"type": "value", "name": "F"},
        "series": [{"type": "scatter", "symbolSize": 6,
                    "data": [[r["recency_days"], r["frequency"]] for r in rfm.rows[:3000]]}],
    }
    return page(request, g, session, "Client analytics", f, [
        table_block(rating_table, rating),
        Block(kind="chart", title="RFM map", name="rfm", option=scatter),
        table_block(segment_table, rfm),
        *segment_blocks(session, g, f),
        table_block(rfm_table, rfm),
    ], breakdowns=False)


def _client_summary_page(request: Request, session: Any, g: Any, f: ReportFilters,
                         query: dict[str, Any]) -> Response:
    summary = analysis.run(session, g.viewer, "clients", {**query, "section": "summary"})
    summary_table = Table("summary", "Clients by group, ABC class and RFM segment", [
        Column("group", "Group"), Column("name", "Class or segment"),
        Column("clients", "Clients", "number"), Column("revenue", "Revenue", "money"),
        Column("client_share_pct", "Share of clients, %", "percent"),
        Column("revenue_share_pct", "Share of revenue, %", "percent"),
    ], summary.rows)
    return page(request, g, session, "Client analytics", f, [
        table_block(summary_table, summary),
        *segment_blocks(session, g, f),
    ], breakdowns=False)


@router.get("/ui/cohorts")
def cohorts_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    f = ReportFilters.from_request(request)
    start_month = f.end.replace(day=1).replace(year=f.end.year - 1)
    result = analysis.run(session, g.viewer, "cohorts", {
        "start_month": start_month.isoformat(), "end_month": f.end.isoformat(), "months": 12,
    })
    offsets = sorted({r["offset"] for r in result.rows})
    triangle: dict[str, dict[str, Any]] = {}
    for r in result.rows:
        row = triangle.setdefault(str(r["cohort_month"]), {
            "cohort": r["cohort_month"], "size": r["cohort_clients"],
            "payback": r.get("payback_offset"), "cac": r.get("cac"),
        })
        row[f"m{r['offset']}"] = r["retention_pct"]
    columns = [Column("cohort", "Cohort", "month"), Column("size", "Cohort size", "number"),
               Column("cac", "CAC", "money"), Column("payback", "Payback month", "number")]
    columns += [Column(f"m{o}", f"+{o}", "percent") for o in offsets]
    table = Table("retention", "Retention triangle", columns, list(triangle.values()))
    heat = {
        "tooltip": {"position": "top"},
        "grid": {"left": 90, "right": 20, "bottom": 60, "top": 10},
        "xAxis": {"type": "category", "data": [f"+{o}" for o in offsets]},
        "yAxis": {"type": "category", "data": list(triangle), "inverse": True},
        "visualMap": {"min": 0, "max": 100, "orient": "horizontal", "left": "center", "bottom": 0},
        "series": [{"type": "heatmap", "data": [
            [offsets.index(r["offset"]), list(triangle).index(str(r["cohort_month"])),
             None if r["retention_pct"] is None else round(r["retention_pct"], 1)]
            for r in result.rows if r["offset"] > 0
        ]}],
    }
    blocks = [
        Block(kind="chart", title="Retention, %", name="retention", option=heat, height=400),
        table_block(table, result),
    ]
    blocks += ltv_blocks(session, g, f)
    return page(request, g, session, "Cohorts & LTV", f, blocks, breakdowns=False)


def ltv_blocks(session: Any, g: Any, f: ReportFilters) -> list[Block]:
    if not analysis.available("ltv"):
        return [Block(kind="missing", title="LTV")]
    result = analysis.run(session, g.viewer, "ltv", {"as_of": f.end.isoformat()})
    columns = [Column(c, c.replace("_", " ").capitalize()) for c in result.columns]
    return [table_block(Table("ltv", "LTV", columns, result.rows[:200]), result)]


def segment_blocks(session: Any, g: Any, f: ReportFilters) -> list[Block]:
    """Behaviour segments (k-means), when the segments report is installed."""
    if not analysis.available("segments"):
        return [Block(kind="missing", title="Segments")]
    try:
        result = analysis.run(session, g.viewer, "segments", {"as_of": f.end.isoformat()})
    except InvalidInput:  # no paying clients yet: nothing to cluster, the rest still shows
        return [Block(kind="empty", title="Behaviour segments")]
    name = "name_ru" if g.viewer.language == "ru" else "name_en"
    table = Table("behaviour", "Behaviour segments", [
        Column(name, "Segment"), Column("clients", "Clients in segment", "number"),
        Column("client_share_pct", "Share of clients, %", "percent"),
        Column("revenue", "Revenue", "money"),
        Column("revenue_share_pct", "Share of revenue, %", "percent"),
        Column("mean_recency_days", "Recency", "number"),
        Column("mean_orders", "Orders", "number", digits=1),
        Column("top_channel", "Channel"), Column("top_product_group", "Product group"),
    ], result.rows)
    return [table_block(table, result)]


@router.get("/ui/forecast")
def forecast_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    """Sales forecast with prediction intervals, the past error of each model, pipeline."""
    f = ReportFilters.from_request(request)
    if not analysis.available("forecast"):
        return page(request, g, session, "Forecast", f, [Block(kind="missing", title="Forecast")])
    history = {"start": f.end.replace(year=f.end.year - 2).isoformat(), "end": f.end.isoformat()}
    series = analysis.run(session, g.viewer, "forecast", {"period": history, "filters": f.filters})
    backtest = analysis.run(session, g.viewer, "forecast",
                            {"period": history, "filters": f.filters, "section": "backtest"})
    rows = series.rows
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "grid": {"left": 80, "right": 20, "bottom": 40},
        "xAxis": {"type": "category", "data": [str(r["bucket"]) for r in rows]},
        "yAxis": {"type": "value"},
        "series": [
            {"name": "actual", "type": "line", "data": [r["actual"] for r in rows]},
            {"name": "forecast", "type": "line", "data": [r["forecast"] for r in rows]},
            {"name": "lower", "type": "line", "lineStyle": {"type": "dashed"},
             "data": [r["lower"] for r in rows]},
            {"name": "upper", "type": "line", "lineStyle": {"type": "dashed"},
             "data": [r["upper"] for r in rows]},
        ],
    }
    future = [r for r in rows if r["kind"] != "history"]
    table = Table("forecast", "Forecast", [
        Column("bucket", "Month"), Column("forecast", "Forecast", "money"),
        Column("lower", "Lower bound", "money"), Column("upper", "Upper bound", "money"),
        Column("model", "Model"),
    ], future)
    errors = Table("backtest", "Past error", [
        Column("model", "Model"), Column("mase", "MASE", "number", digits=3),
        Column("smape", "sMAPE, %", "percent"), Column("folds", "Folds", "number"),
        Column("chosen", "Chosen"),
    ], backtest.rows)
    blocks = [Block(kind="chart", title="Forecast", name="forecast", option=chart),
              table_block(table, series), table_block(errors, backtest)]
    if analysis.available("pipeline_forecast"):
        weighted = analysis.run(session, g.viewer, "pipeline_forecast",
                                {"period": history, "filters": f.filters})
        blocks.append(table_block(Table("pipeline_forecast", "Weighted pipeline", [
            Column("pipeline", "Pipeline"), Column("stage", "Stage"),
            Column("open_deals", "Number of deals", "number"),
            Column("open_amount", "Amount", "money"),
            Column("calibrated_probability", "Probability", "number", digits=2),
            Column("weighted_calibrated", "Weighted amount", "money"),
        ], weighted.rows), weighted))
    return page(request, g, session, "Forecast", f, blocks, breakdowns=False)


@router.get("/ui/experiments")
def experiments_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    """A/B/n test of the campaigns chosen in the URL (the first is the control)."""
    from sqlalchemy import select

    from voronka.campaign.models import Campaign

    f = ReportFilters.from_request(request)
    if not analysis.available("experiment"):
        return page(request, g, session, "Experiments", f,
                    [Block(kind="missing", title="Experiments")])
    campaigns = session.execute(
        select(Campaign.id, Campaign.name, Campaign.channel_id)
        .where(Campaign.workspace_id == g.actor.workspace_id).order_by(Campaign.id)
    ).all()
    chosen = [int(v) for v in request.query_params.getlist("campaign_id") if v.isdigit()][:10]
    if len(chosen) < 2:
        first_channel = campaigns[0][2] if campaigns else None
        chosen = [c[0] for c in campaigns if c[2] == first_channel][:2]
    blocks: list[Block] = [Block(kind="campaigns", items=[
        {"id": c[0], "name": c[1], "chosen": c[0] in chosen} for c in campaigns])]
    if len(chosen) >= 2:
        result = analysis.run(session, g.viewer, "experiment",
                              {"period": f.period, "campaign_ids": chosen})
        reason = "reason_ru" if g.viewer.language == "ru" else "reason_en"
        variants = [r for r in result.rows if r["row_type"] == "variant"]
        verdicts = [r for r in result.rows if r["row_type"] != "variant"]
        blocks.append(table_block(Table("variants", "Variants", [
            Column("variant", "Campaign"), Column("figure", "Metric"),
            Column("units", "Leads", "number"),
            Column("value", "Value", "number", digits=3),
            Column("lift", "Lift", "number", digits=3),
            Column("ci_low", "Lower bound", "number", digits=3),
            Column("ci_high", "Upper bound", "number", digits=3),
            Column("p_adjusted", "p (Holm)", "number", digits=4),
            Column("probability_to_beat_control", "Probability to beat control", "number",
                   digits=3),
            Column("always_valid_p", "Always-valid p", "number", digits=4),
        ], variants), result))
        blocks.append(table_block(Table("verdict", "Decision", [
            Column("row_type", "Kind"), Column("decision", "Decision"), Column(reason, "Result"),
            Column("units_needed", "Sample size", "number"),
            Column("units_reached", "Reached", "number"),
        ], verdicts), result))
    return page(request, g, session, "Experiments", f, blocks, breakdowns=False)
