"""The "experiment" report: campaigns as variants of an A/B/n test on CRM data.

Variants are campaigns chosen by id (the first is the control). The unit is a lead (a deal
created in the period through the campaign), converted means won, and the value is the
revenue of the deal's revenue orders. The engine reduces the deals to counts and sums per
campaign and local day in one query; the day rows are accumulated in Python into the looks
of the peeking guard, and ``ABTest`` computes every statistic from those few numbers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field, field_validator

from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.experiment.model import CONVERSION, FIGURES, ABTest
from voronka.analytics.experiment.summary import VariantSummary
from voronka.analytics.facts import Fact
from voronka.analytics.labels import labels
from voronka.analytics.metrics.measures import count_where
from voronka.analytics.query import Breakdown, Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources


class ExperimentQuery(Strict):
    """Campaigns compared as variants (first = control) over leads created in ``period``."""

    period: Period
    campaign_ids: tuple[int, ...] = Field(min_length=2, max_length=10)
    alpha: float = Field(0.05, gt=0, lt=0.5)
    power: float = Field(0.8, gt=0.5, lt=1)
    mde: float = Field(0.1, gt=0, le=10, description="Minimum lift of interest (0.1 = 10 %).")
    primary: str = Field(CONVERSION, description="conversion, value_per_unit or average_check")
    burn_in: int = Field(50, ge=1, le=100_000, description="Units per variant before the "
                         "peeking guard looks.")

    @field_validator("campaign_ids")
    @classmethod
    def _distinct(cls, ids: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(ids)) != len(ids):
            raise ValueError("each campaign may be a variant only once")
        return ids

    @field_validator("primary")
    @classmethod
    def _figure(cls, value: str) -> str:
        if value not in FIGURES:
            raise ValueError(f"primary must be one of {', '.join(FIGURES)}")
        return value


def deal_values(sources: Sources) -> ir.Table:
    """Deals with ``value``: the revenue (currency units) of their revenue orders."""
    deals, orders = facts.deals(sources), facts.orders(sources)
    linked = orders.filter(orders.deal_id.notnull())
    revenue = linked.group_by(value_deal=linked.deal_id).aggregate(
        revenue=linked.total_minor.sum().cast("float64") / 100.0)
    joined = deals.left_join(revenue, deals.id == revenue.value_deal)
    return joined.mutate(value=ibis.coalesce(joined.revenue, 0.0)).drop("value_deal", "revenue")


def daily_sums(sources: Sources, query: ExperimentQuery) -> ir.Table:
    """Units, conversions and value sums per (campaign, local day of creation)."""
    fact = Fact("leads", deal_values(sources), "created_at")
    rows = fact.within(sources, query.period,
                       Filters(campaign_ids=query.campaign_ids))
    won = rows.status == "won"
    value = rows.value
    check = won.ifelse(value, 0.0)
    return rows.group_by(
        variant=rows.campaign_id.cast("int64"),
        day=sources.local(rows.created_at).cast("date"),
    ).aggregate(
        units=rows.count().cast("int64"),
        conversions=count_where(won).cast("int64"),
        value_sum=ibis.coalesce(value.sum(), 0.0).cast("float64"),
        value_sq_sum=ibis.coalesce((value * value).sum(), 0.0).cast("float64"),
        check_sum=ibis.coalesce(check.sum(), 0.0).cast("float64"),
        check_sq_sum=ibis.coalesce((check * check).sum(), 0.0).cast("float64"),
    )


_SUMS = ("units", "conversions", "value_sum", "value_sq_sum", "check_sum", "check_sq_sum")


def looks(rows: list[dict[str, Any]], ids: tuple[int, ...]
          ) -> tuple[list[VariantSummary], list[list[VariantSummary]]]:
    """The final summaries and the cumulative summaries after each day, per variant."""
    by_day: dict[date, dict[int, VariantSummary]] = defaultdict(dict)
    for row in rows:
        day = row["day"].date() if isinstance(row["day"], datetime) else row["day"]
        values = [row[name] or 0 for name in _SUMS]
        by_day[day][int(row["variant"])] = VariantSummary(
            str(row["variant"]), int(values[0]), int(values[1]), *map(float, values[2:]))
    running = {i: VariantSummary(str(i), 0, 0) for i in ids}
    history = []
    for day in sorted(by_day):
        for variant, summary in by_day[day].items():
            running[variant] = running[variant].plus(summary)
        history.append([running[i] for i in ids])
    return [running[i] for i in ids], history


COLUMNS = ("row_type", "campaign_id", "variant", "is_control", "figure", "units", "value",
           "difference", "lift", "ci_low", "ci_high", "p_value", "p_adjusted", "significant",
           "probability_to_beat_control", "expected_loss", "probability_best",
           "always_valid_p", "decision", "reason_en", "reason_ru", "chi_square_p",
           "units_needed", "units_reached", "mde_now")
_UNIT_COUNT = {"conversion": "units", "value_per_unit": "units", "average_check": "conversions"}
_VALUE = {"conversion": "conversion_rate", "value_per_unit": "value_per_unit",
          "average_check": "average_check"}


def _rows(test: ABTest, ids: tuple[int, ...], names: dict[int, str]) -> list[dict[str, Any]]:
    compared = {(c["variant"], c["figure"]): c for c in test.comparisons_}
    out = []
    for figure in test.figures_:
        for index, variant in enumerate(test.variants_):
            campaign = ids[index]
            found = compared.get((variant["variant"], figure), {})
            row = dict.fromkeys(COLUMNS)
            row.update({
                "row_type": "variant", "campaign_id": campaign,
                "variant": names.get(campaign, "—"), "is_control": index == 0,
                "figure": figure, "units": variant[_UNIT_COUNT[figure]],
                "value": variant[_VALUE[figure]],
                "probability_best": (test.probability_best_[index]
                                     if figure == CONVERSION else None),
            })
            for key in ("difference", "lift", "ci_low", "ci_high", "p_value", "p_adjusted",
                        "significant", "probability_to_beat_control", "expected_loss",
                        "always_valid_p"):
                row[key] = found.get(key)
            out.append(row)
    verdict = dict.fromkeys(COLUMNS)
    winner = test.verdict_["variant"]
    verdict.update({
        "row_type": "verdict", "figure": test.primary, "decision": test.verdict_["decision"],
        "campaign_id": int(winner) if winner is not None else None,
        "variant": names.get(int(winner), "—") if winner is not None else None,
        "reason_en": test.verdict_["reason_en"], "reason_ru": test.verdict_["reason_ru"],
        "chi_square_p": test.chi_square_["p_value"] if test.chi_square_ else None,
        "units_needed": test.plan_["units_needed"], "units_reached": test.plan_["units_reached"],
        "mde_now": test.plan_["mde_now"],
    })
    return [*out, verdict]


def run(runner: Runner, query: ExperimentQuery) -> Result:
    """Compare the campaigns' leads: conversion to won, revenue per lead, average check."""
    final, history = looks(runner.rows(daily_sums(runner.sources, query)), query.campaign_ids)
    test = ABTest(alpha=query.alpha, power=query.power, mde=query.mde,
                  primary=query.primary, burn_in=query.burn_in).fit(final, history)
    names = labels(runner, Breakdown.CAMPAIGN, set(query.campaign_ids))
    return Result(
        report="experiment",
        engine=runner.engine,
        columns=list(COLUMNS),
        rows=_rows(test, query.campaign_ids, names),
        formula=FORMULAS,
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts={"leads": sum(v.units for v in final)},
        drilldown={"endpoint": "/api/v1/analytics/drilldown",
                   "measures": {"units": ["leads"]}, "breakdown": "campaign"},
        query=query.model_dump(mode="json"),
    )


FORMULAS = {
    "units": "leads (deals created in the period) of the campaign; for average_check: won leads",
    "conversion": "won leads ÷ leads",
    "value_per_unit": "revenue of the leads' revenue orders ÷ leads",
    "average_check": "revenue of the leads' revenue orders ÷ won leads",
    "p_value": "conversion: two-proportion z-test (pooled); money: Welch's t-test",
    "p_adjusted": "Holm's step-down correction over the comparisons with the control",
    "ci_low": "lower bound of the (1 − alpha) interval of variant − control",
    "probability_to_beat_control": "posterior P(variant > control): Beta(1+won, 1+lost) for "
    "conversion (Evan Miller's exact sum), Student-t posterior of the mean check × "
    "conversion for money (seeded Monte Carlo)",
    "expected_loss": "posterior E[max(control − variant, 0)]",
    "probability_best": "posterior P(highest conversion of all variants)",
    "always_valid_p": "mSPRT always-valid p-value over daily looks with at least burn_in "
    "units per variant (Johari et al. 2017), mixture sd = mde × control",
    "decision": "may_stop when an always-valid p ≤ alpha ÷ (variants − 1) on the primary "
    "figure, or when the planned units are reached; otherwise keep_running",
    "units_needed": "units per variant to detect a lift of mde at alpha ÷ (variants − 1) "
    "with the given power",
    "mde_now": "smallest lift detectable with the units reached so far",
}

REPORT = Report(
    name="experiment",
    title_en="A/B test of campaigns",
    title_ru="A/B-тест рекламных кампаний",
    query=ExperimentQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal", "order"),
)
