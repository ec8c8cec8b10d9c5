"""Drill-down: the records behind one figure of the metrics or dynamics report."""

from __future__ import annotations

from pydantic import Field, field_validator

from voronka.analytics.metrics.measures import MEASURES
from voronka.analytics.query import Breakdown, Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.errors import ErrorDetail, InvalidInput

#: The kind of record behind each measure's facts, its policy resource and its id column.
RECORDS: dict[str, tuple[str, str, str]] = {
    **{
        m: ("deal", "deal", "id")
        for m in ("leads", "won", "lost", "cycle_median", "response_median", "response_p90")
    },
    **{
        m: ("order", "order", "id")
        for m in ("revenue", "gross_profit", "paid_orders", "buyers", "repeat_buyers", "new_buyers")
    },
    **{m: ("order", "order", "order_id") for m in ("line_revenue", "units")},
    "spend": ("ad_spend", "ad_spend", "id"),
    "visitors": ("touchpoint", "touchpoint", "id"),
    **{
        m: ("activity", "activity", "id")
        for m in ("inbound_calls", "missed_calls", "wait_median", "talk_median")
    },
    **{
        m: ("feedback", "feedback", "id")
        for m in ("csat_sum", "csat_count", "nps_promoters", "nps_detractors", "nps_count")
    },
}


class DrilldownQuery(Strict):
    period: Period
    measure: str = Field(description="A measure of the figure (see the metric's `measures`).")
    breakdown: Breakdown | None = None
    key: int | None = Field(None, description="The breakdown key of the figure (null: none).")
    filters: Filters = Filters()
    limit: int = Field(100, ge=1, le=1000)

    @field_validator("measure")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in MEASURES:
            raise ValueError(f"unknown measure; known: {', '.join(MEASURES)}")
        return name


def resource_of(measure: str) -> str:
    return RECORDS[measure][1]


def run(runner: Runner, query: DrilldownQuery) -> Result:
    """The ids (up to ``limit``) of the records a measure aggregated for one figure."""
    entity, _, id_column = RECORDS[query.measure]
    rows = MEASURES[query.measure].facts_in(
        runner.sources, query.period, query.breakdown, query.key, query.filters
    )
    if id_column not in rows.columns:
        raise InvalidInput(
            "this measure has no records to list", [ErrorDetail("no records", field="measure")]
        )
    ids = rows.select(id=rows[id_column]).distinct().order_by("id").limit(query.limit)
    found = runner.rows(ids)
    return Result(
        report="drilldown",
        engine=runner.engine,
        columns=["entity", "id"],
        rows=[{"entity": entity, "id": r["id"]} for r in found],
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts={query.measure: len(found)},
        query=query.model_dump(mode="json"),
    )
