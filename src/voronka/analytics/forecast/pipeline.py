"""The ``pipeline_forecast`` report: open deals weighted by calibrated stage win probabilities.

Calibration (per open stage of a pipeline), from the deals of that pipeline closed (won or
lost) in the history period: ``reached`` = closed deals whose stage history ever entered the
stage, ``won`` = those of them won. The raw share ``won ÷ reached`` is smoothed towards the
pipeline's win rate ``p̄`` (all its closed deals) with a Beta prior of ``prior_strength``
pseudo-deals — empirical-Bayes shrinkage, so a stage with three deals of history does not
claim 0 % or 100 %:

    p = (won + k·p̄) ÷ (reached + k)

The weighted pipeline is Σ amount × p over open deals, shown next to the same sum with the
stages' configured default probabilities.

References
----------
Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A., Rubin, D. B. (2013).
*Bayesian Data Analysis*, 3rd ed., §2.4 (Beta prior as pseudo-observations) and §5.3
(hierarchical shrinkage of rates).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field

from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.query import Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources


class PipelineForecastQuery(Strict):
    period: Period = Field(description="Deals closed in this period are the history.")
    filters: Filters = Filters()
    pipeline_ids: tuple[int, ...] | None = Field(None, max_length=100)
    prior_strength: float = Field(5.0, ge=0, le=10_000,
                                  description="Pseudo-deals of the prior (0: raw shares).")


def _deals(s: Sources, query: PipelineForecastQuery) -> ir.Table:
    deals = facts.deals(s)
    for dimension, ids in query.filters.by_dimension().items():
        deals = deals.filter(deals[facts.DIM[dimension]].isin(list(ids)))
    if query.pipeline_ids is not None:
        deals = deals.filter(deals.pipeline_id.isin(list(query.pipeline_ids)))
    return deals


def _won(deals: ir.Table) -> ir.IntegerColumn:
    # PostgreSQL cannot cast a boolean to BIGINT: choose the integer instead
    return (deals.status == "won").ifelse(1, 0).cast("int64")


def stage_history(s: Sources, query: PipelineForecastQuery) -> ir.Table:
    """Per stage entered: ``reached`` closed deals and how many of them were ``won``."""
    closed = facts.Fact("closed deals", _deals(s, query), "closed_at").within(
        s, query.period, Filters())
    closed = closed.filter(closed.status.isin(("won", "lost"))).select(
        deal_key=closed.id, is_won=_won(closed))
    changes = s["deal_stage_change"]
    entered = changes.select(deal_id=changes.deal_id, stage_id=changes.to_stage_id).distinct()
    j = entered.join(closed, entered.deal_id == closed.deal_key)
    return j.group_by("stage_id").aggregate(reached=j.count().cast("int64"),
                                            won=j.is_won.sum().cast("int64"))


def pipeline_history(s: Sources, query: PipelineForecastQuery) -> ir.Table:
    """Per pipeline: closed deals in the period and how many were won."""
    closed = facts.Fact("closed deals", _deals(s, query), "closed_at").within(
        s, query.period, Filters())
    closed = closed.filter(closed.status.isin(("won", "lost")))
    return closed.group_by("pipeline_id").aggregate(
        closed=closed.count().cast("int64"),
        won=_won(closed).sum().cast("int64"))


def open_deals(s: Sources, query: PipelineForecastQuery) -> ir.Table:
    """Per stage: open deals now and their amount (minor units)."""
    deals = _deals(s, query)
    deals = deals.filter(deals.status == "open")
    return deals.group_by("stage_id").aggregate(
        open_deals=deals.count().cast("int64"),
        open_amount_minor=deals.amount_minor.sum().cast("int64"))


def stages(s: Sources, query: PipelineForecastQuery) -> ir.Table:
    stage, pipeline = s["stage"], s["pipeline"]
    t = stage.filter(stage.kind == "open")
    if query.pipeline_ids is not None:
        t = t.filter(t.pipeline_id.isin(list(query.pipeline_ids)))
    names = pipeline.select(pipeline_key=pipeline.id, pipeline=pipeline.name)
    t = t.join(names, t.pipeline_id == names.pipeline_key)
    return t.select(stage_id=t.id, stage=t.name, pipeline_id=t.pipeline_id,
                    pipeline=t.pipeline, position=t.position,
                    default_probability=t.probability.cast("float64") / ibis.literal(100.0))


def calibrated(won: int, reached: int, base_rate: float | None, strength: float) -> float | None:
    """``(won + k·p̄) ÷ (reached + k)``; None when there is neither history nor a prior."""
    prior = base_rate if base_rate is not None else 0.0
    weight = strength if base_rate is not None else 0.0
    if reached + weight == 0:
        return None
    return (won + weight * prior) / (reached + weight)


def stage_rows(stage_list: list[dict[str, Any]], history: dict[int, dict[str, Any]],
               bases: dict[int, dict[str, Any]], pipeline: dict[int, dict[str, Any]],
               strength: float) -> list[dict[str, Any]]:
    rows = []
    for st in sorted(stage_list, key=lambda r: (r["pipeline_id"], r["position"])):
        h = history.get(st["stage_id"], {"reached": 0, "won": 0})
        base = bases.get(st["pipeline_id"])
        base_rate = base["won"] / base["closed"] if base and base["closed"] else None
        p = calibrated(h["won"], h["reached"], base_rate, strength)
        o = pipeline.get(st["stage_id"], {"open_deals": 0, "open_amount_minor": 0})
        amount = (o["open_amount_minor"] or 0) / 100.0
        default = st["default_probability"] or 0.0
        rows.append({
            "pipeline_id": st["pipeline_id"], "pipeline": st["pipeline"],
            "stage_id": st["stage_id"], "stage": st["stage"],
            "reached": h["reached"], "won": h["won"],
            "raw_probability": h["won"] / h["reached"] if h["reached"] else None,
            "pipeline_win_rate": base_rate,
            "calibrated_probability": p, "default_probability": default,
            "open_deals": o["open_deals"], "open_amount": amount,
            "weighted_calibrated": amount * p if p is not None else None,
            "weighted_default": amount * default,
        })
    return rows


def total_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"pipeline_id": None, "pipeline": "total", "stage_id": None, "stage": None,
            "reached": None, "won": None, "raw_probability": None, "pipeline_win_rate": None,
            "calibrated_probability": None, "default_probability": None,
            "open_deals": sum(r["open_deals"] for r in rows),
            "open_amount": sum(r["open_amount"] for r in rows),
            "weighted_calibrated": sum(r["weighted_calibrated"] or 0.0 for r in rows),
            "weighted_default": sum(r["weighted_default"] for r in rows)}


FORMULA = {
    "reached": "deals closed in the period whose history entered the stage",
    "won": "of those, deals won",
    "raw_probability": "won ÷ reached",
    "pipeline_win_rate": "won ÷ closed deals of the pipeline in the period (the prior mean)",
    "calibrated_probability": "(won + k × pipeline_win_rate) ÷ (reached + k), k = "
                              "prior_strength",
    "default_probability": "the stage's configured probability",
    "weighted_calibrated": "open amount × calibrated_probability",
    "weighted_default": "open amount × default_probability",
}


def run(runner: Runner, query: PipelineForecastQuery) -> Result:
    """Calibrate stage probabilities and weigh the open pipeline with them."""
    s = runner.sources
    history = {r["stage_id"]: r for r in runner.rows(stage_history(s, query))}
    bases = {r["pipeline_id"]: r for r in runner.rows(pipeline_history(s, query))}
    current = {r["stage_id"]: r for r in runner.rows(open_deals(s, query))}
    rows = stage_rows(runner.rows(stages(s, query)), history, bases, current,
                      query.prior_strength)
    rows.append(total_row(rows))
    closed = sum(b["closed"] for b in bases.values())
    return Result(report="pipeline_forecast", engine=runner.engine, columns=list(rows[0]),
                  rows=rows, formula=FORMULA, sql=runner.sql, seconds=runner.seconds,
                  row_counts={"closed_deals": closed, "open_deals": rows[-1]["open_deals"]},
                  query=query.model_dump(mode="json"))


REPORT = Report(
    name="pipeline_forecast",
    title_en="Weighted pipeline with calibrated stage probabilities",
    title_ru="Взвешенная воронка с откалиброванными вероятностями этапов",
    query=PipelineForecastQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal",),
)
