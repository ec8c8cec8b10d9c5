"""The funnel report: how many deals reach each of a list of pipeline stages, in order.

Built on the stage history (``deal_stage_change``) with the semantics of PostHog's ordered
funnel [1]_; ``docs/analytics/funnel.md`` states them in full with a worked example:

* a deal **enters** the funnel at its first change into the step-1 stage (its first history
  row, ``from_stage_id`` NULL, is the change into the stage it was created in), and belongs to
  the period in which that happens (company local days);
* it **reaches** step *k* at its first change into the step-*k* stage at or after the moment
  it reached step *k − 1* (equal timestamps count), and only if that moment is at most
  ``conversion_window_days`` after it entered the funnel (a hard filter, bounds included);
* a deal that never changed into a stage has not reached it, even if it later reached a
  further stage (a deal moved *new → proposal* has not reached *qualified*);
* with ``strict_order`` a step also does not count once the deal entered a later listed stage
  before it (or a stage listed after the previous step before that previous step).

Counts and the median/p90 times of all steps come from one engine query: each step is a
level joined to the one before (PostHog's "levels" [1]_), the levels are stacked and grouped.

References
----------
.. [1] PostHog, ``posthog/hogql_queries/insights/funnels/funnel.py`` and ``base.py``
   (``_get_sorting_condition``: ``latest_{i-1} <= latest_i`` and
   ``latest_i <= latest_0 + INTERVAL window``), https://github.com/PostHog/posthog
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field, field_validator, model_validator

from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.facts import DIM, Fact
from voronka.analytics.labels import labels
from voronka.analytics.metrics.registry import ratio
from voronka.analytics.query import Breakdown, Filters, Grain, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput

DEFAULT_WINDOW_DAYS = 90
MAX_WINDOW_DAYS = 3660
MAX_STEPS = 20
MAX_DROPPED = 1000
#: Breakdowns a deal has a value for (``facts.deals``); product groups belong to order lines.
DEAL_BREAKDOWNS = (Breakdown.CHANNEL, Breakdown.CAMPAIGN, Breakdown.MANAGER, Breakdown.PIPELINE)
_TRUNCATE_UNIT = {
    Grain.DAY: "D",
    Grain.WEEK: "W",
    Grain.MONTH: "M",
    Grain.QUARTER: "Q",
    Grain.YEAR: "Y",
}

TIME_COLUMNS = [
    "median_hours_from_previous",
    "p90_hours_from_previous",
    "median_hours_from_start",
    "median_hours_in_stage",
]
COLUMNS = [
    "key",
    "label",
    "cohort",
    "step",
    "stage_id",
    "stage_name",
    "entered",
    "conversion_from_previous_pct",
    "conversion_overall_pct",
    "dropped",
    *TIME_COLUMNS,
]
FORMULA = {
    "entered": "deals that reached the step (first change into its stage at or after the "
    "previous step, within the conversion window from step 1)",
    "conversion_from_previous_pct": "entered ÷ entered at the previous step × 100",
    "conversion_overall_pct": "entered ÷ entered at step 1 × 100",
    "dropped": "entered at the previous step − entered",
    "median_hours_from_previous": "median of (reached this step − reached the previous step)",
    "p90_hours_from_previous": "90th percentile (linear interpolation) of the same",
    "median_hours_from_start": "median of (reached this step − entered step 1)",
    "median_hours_in_stage": "median of (next stage change − reached this step), deals that "
    "left the stage",
}


class FunnelQuery(Strict):
    """Deals entering step 1 in ``period`` and the stages, in order, they should go through.

    ``steps`` are stage ids; without them the steps are ``pipeline_id``'s (or the default
    pipeline's) open stages in position order followed by its won stage.
    """

    period: Period
    steps: tuple[int, ...] | None = Field(None, min_length=2, max_length=MAX_STEPS)
    pipeline_id: int | None = None
    conversion_window_days: int = Field(DEFAULT_WINDOW_DAYS, ge=1, le=MAX_WINDOW_DAYS)
    breakdown: Breakdown | None = None
    cohort_grain: Grain | None = None
    filters: Filters = Filters()
    strict_order: bool = False

    @field_validator("steps")
    @classmethod
    def _distinct(cls, steps: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if steps is not None and len(set(steps)) != len(steps):
            raise ValueError("a stage may be listed only once")
        return steps

    @field_validator("breakdown")
    @classmethod
    def _deal_dimension(cls, breakdown: Breakdown | None) -> Breakdown | None:
        if breakdown is not None and breakdown not in DEAL_BREAKDOWNS:
            raise ValueError(f"a funnel cannot be broken down by {breakdown.value}")
        return breakdown

    @model_validator(mode="after")
    def _one_source_of_steps(self) -> FunnelQuery:
        if self.steps is not None and self.pipeline_id is not None:
            raise ValueError("give either steps or pipeline_id, not both")
        return self


@dataclass(frozen=True)
class Step:
    number: int  # 1-based
    stage_id: int
    name: str


def resolve_steps(runner: Runner, query: FunnelQuery) -> list[Step]:
    """The query's steps with their stage names (one small query on ``stage``)."""
    stage, pipeline = runner.sources["stage"], runner.sources["pipeline"]
    if query.steps is not None:
        found = runner.rows(
            stage.filter(stage.id.isin(list(query.steps))).select(
                stage_id=stage.id, name=stage.name
            )
        )
        names = {int(r["stage_id"]): str(r["name"]) for r in found}
        missing = [s for s in query.steps if s not in names]
        if missing:
            raise InvalidInput(
                f"no stages with ids {missing}",
                [ErrorDetail("unknown stage", field="steps", value=missing)],
            )
        return [Step(n, s, names[s]) for n, s in enumerate(query.steps, start=1)]
    pipelines = pipeline.select(
        pipeline_key=pipeline.id,
        is_default=pipeline.is_default,
        pipeline_position=pipeline.position,
        pipeline_archived=pipeline.is_archived,
    )
    live = stage.filter(~stage.is_archived)
    j = live.join(pipelines, live.pipeline_id == pipelines.pipeline_key)
    rows = runner.rows(
        j.select(
            "pipeline_id",
            "is_default",
            "pipeline_position",
            "pipeline_archived",
            "position",
            "kind",
            stage_id=j.id,
            name=j.name,
        )
    )
    return _pipeline_steps(rows, query.pipeline_id)


def _pipeline_steps(stages: list[dict[str, Any]], pipeline_id: int | None) -> list[Step]:
    """Open stages by position, then the won stage, of the chosen (or default) pipeline."""
    if pipeline_id is None:
        live = [s for s in stages if not s["pipeline_archived"]]
        ranked = sorted(
            live, key=lambda s: (not s["is_default"], s["pipeline_position"], s["pipeline_id"])
        )
        pipeline_id = ranked[0]["pipeline_id"] if ranked else None
    own = sorted(
        (s for s in stages if s["pipeline_id"] == pipeline_id),
        key=lambda s: (s["position"], s["stage_id"]),
    )
    opened = [s for s in own if s["kind"] == "open"][: MAX_STEPS - 1]
    chosen = opened + [s for s in own if s["kind"] == "won"][:1]
    if len(chosen) < 2:
        raise InvalidInput(
            "the pipeline has fewer than two stages to make a funnel of",
            [ErrorDetail("no funnel stages", field="pipeline_id", value=pipeline_id)],
        )
    return [Step(n, int(s["stage_id"]), str(s["name"])) for n, s in enumerate(chosen, start=1)]


def funnel_levels(s: Sources, query: FunnelQuery, stage_ids: list[int]) -> list[ir.Table]:
    """One table per step: the deals that reached it, when, and their group.

    Columns: ``deal_id, client_id, key, cohort, start_at, window_end`` (carried from step 1,
    with ``later_k`` under ``strict_order``), ``prev_at`` (when the deal reached the previous
    step), ``at`` (when it reached this one) and ``next_at`` (its next stage change after
    ``at``, NULL while it stays).

    Most deals enter each stage once: their path is in the kept first entries
    (``deal_stage_entry``) and read from there in one pass (:func:`_single_pass_levels`).
    Deals that entered a step's stage more than once, and every deal under
    ``strict_order``, go through the stage history (:func:`_history_levels`); both give the
    same levels for a deal that entered each stage once.
    """
    entrants = _entrants(s, query, stage_ids[0])
    if query.strict_order:
        return _history_levels(s, query, entrants, stage_ids)
    entries = s["deal_stage_entry"]
    again = entries.filter(entries.to_stage_id.isin(stage_ids), entries.entries > 1)
    once = entrants.filter(~entrants.deal_id.isin(again.deal_id))
    twice = entrants.filter(entrants.deal_id.isin(again.deal_id))
    return [
        ibis.union(fast, slow)
        for fast, slow in zip(
            _single_pass_levels(s, once, stage_ids, _period_start(s, query)),
            _history_levels(s, query, twice, stage_ids),
            strict=True,
        )
    ]


CARRIED = ["deal_id", "client_id", "key", "cohort", "start_at", "window_end"]


def _period_start(s: Sources, query: FunnelQuery) -> datetime:
    """The period's first moment in UTC (naive): no entrant entered step 1 before it."""
    return datetime.combine(query.period.start, time.min) - s.utc_offset


def _single_pass_levels(s: Sources, entrants: ir.Table, stage_ids: list[int],
                        since: datetime) -> list[ir.Table]:
    """Levels of deals that entered each step's stage at most once, from their first entries.

    Such a deal reaches step *k* exactly when it entered the stages of steps 1…k in that
    order (equal times count) and entered step *k*'s stage within the window: the first entry
    into a stage is then its only one. An entry before ``since`` is before step 1's, so it
    can never be in order: reading from ``since`` on (a range the kept rows' order lets the
    engines skip to) gives the same levels as reading the entrants' whole paths.
    """
    # step 1 comes with the entrants (their first entry is the step-1 one): reading it from
    # the pivot too made the engines build the pivot twice, once per consumer
    levels = [entrants.select(*CARRIED, prev_at=ibis.null("timestamp"),
                              at=entrants.entered_at, next_at=entrants.entered_next)]
    if len(stage_ids) == 1:
        return levels
    entries = s["deal_stage_entry"]
    later = stage_ids[1:]
    mine = entries.filter(entries.to_stage_id.isin(later),
                          entries.first_at >= ibis.timestamp(since))
    pivot = mine.group_by(path_deal=mine.deal_id).aggregate(
        **{
            column: mine[source].min(where=mine.to_stage_id == stage_id)
            for number, stage_id in enumerate(later, start=2)
            for column, source in ((f"at_{number}", "first_at"), (f"next_{number}", "next_at"))
        }
    )
    wide = entrants.join(pivot, entrants.deal_id == pivot.path_deal).mutate(
        at_1=entrants.entered_at)
    in_order = ibis.literal(True)
    for number in range(2, len(stage_ids) + 1):
        at, before = wide[f"at_{number}"], wide[f"at_{number - 1}"]
        in_order = in_order & (at >= before)  # NULL (never entered) is not in order
        reached = wide.filter(in_order, at <= wide.window_end)
        levels.append(reached.select(*CARRIED, prev_at=reached[f"at_{number - 1}"],
                                     at=reached[f"at_{number}"],
                                     next_at=reached[f"next_{number}"]))
    return levels


def _history_levels(s: Sources, query: FunnelQuery, entrants: ir.Table,
                    stage_ids: list[int]) -> list[ir.Table]:
    """Levels from the stage history: each the previous one joined to the changes into its
    stage — PostHog's levels [1]_ — kept as separate relations: the engines' optimisers
    handle twenty of them side by side, but not twenty nested left joins."""
    # Without strict order nothing before the deal's entry matters, and every entry falls in
    # the period: the history can start at the period's first moment.
    since = None if query.strict_order else _period_start(s, query)
    history = _history_with_next_change(s, entrants, since)
    carried = list(CARRIED)
    if query.strict_order:
        entrants = _with_later_entries(entrants, history, stage_ids)
        carried += [f"later_{k}" for k in range(1, len(stage_ids))]
    into = history.filter(history.to_stage_id == stage_ids[0])
    joined = entrants.join(
        into, [entrants.deal_id == into.change_deal, into.change_at == entrants.entered_at]
    )
    first = _earliest(joined, carried)
    levels = [
        first.select(
            *carried, prev_at=ibis.null("timestamp"), at=first.reached_at, next_at=first.next_at
        )
    ]
    for number, stage_id in enumerate(stage_ids[1:], start=2):
        previous = levels[-1]
        into = history.filter(history.to_stage_id == stage_id)
        predicates = [
            previous.deal_id == into.change_deal,
            into.change_at >= previous.at,
            into.change_at <= previous.window_end,
        ]
        if query.strict_order:
            predicates.append(_in_strict_order(previous, into, number, len(stage_ids)))
        reached = _earliest(previous.join(into, predicates), [*carried, "at"])
        levels.append(
            reached.select(
                *carried, prev_at=reached.at, at=reached.reached_at, next_at=reached.next_at
            )
        )
    return levels


def _entrants(s: Sources, query: FunnelQuery, first_stage: int) -> ir.Table:
    """Deals whose first change into the step-1 stage falls in the period, with their group."""
    # first entry per live deal and stage, with its client, kept (derived.py)
    entries = s["deal_stage_entry"]
    into = entries.filter(entries.to_stage_id == first_stage)
    first = into.select(entrant_id=into.deal_id, client_id=into.client_id,
                        entered_at=into.first_at, entered_next=into.next_at)
    deals = facts.deals(s)
    dims = deals.select(*[c for c in deals.columns if c.startswith("dim_")], deal_key=deals.id)
    joined = first.join(dims, first.entrant_id == dims.deal_key)
    # without a breakdown or a dimension filter the deals themselves are not read
    fact = Fact("funnel deals", joined, "entered_at", undimensioned=first)
    t = fact.within(s, query.period, query.filters, breakdown=query.breakdown,
                    any_columns=False)
    key = t[DIM[query.breakdown]].cast("int64") if query.breakdown else ibis.null("int64")
    cohort = (
        s.local(t.entered_at).truncate(_TRUNCATE_UNIT[query.cohort_grain]).cast("date")
        if query.cohort_grain
        else ibis.null("date")
    )
    window = ibis.interval(days=query.conversion_window_days)
    return t.select(
        deal_id=t.entrant_id,
        client_id=t.client_id,
        key=key,
        cohort=cohort,
        entered_at=t.entered_at,
        entered_next=t.entered_next,
        start_at=t.entered_at,
        window_end=t.entered_at + window,
    )


def _history_with_next_change(s: Sources, entrants: ir.Table,
                              since: datetime | None) -> ir.Table:
    """The entrants' stage changes (from ``since``), each with the deal's next change time."""
    changes = s["deal_stage_change"]
    if since is not None:
        changes = changes.filter(changes.changed_at >= ibis.timestamp(since))
    mine = changes.filter(changes.deal_id.isin(entrants.deal_id))
    return mine.select(
        change_id=mine.id,
        change_deal=mine.deal_id,
        to_stage_id=mine.to_stage_id,
        change_at=mine.changed_at,
        change_next_at=mine.changed_at.lead().over(
            group_by=mine.deal_id, order_by=[mine.changed_at, mine.id]
        ),
    )


def _with_later_entries(entrants: ir.Table, history: ir.Table, stage_ids: list[int]) -> ir.Table:
    """Add ``later_k``: when the deal first entered any stage listed after step k."""
    later = history.group_by(later_deal=history.change_deal).aggregate(
        **{
            f"later_{k}": history.to_stage_id.isin(stage_ids[k:])
            .ifelse(history.change_at, ibis.null("timestamp"))
            .min()
            for k in range(1, len(stage_ids))
        }
    )
    joined = entrants.left_join(later, entrants.deal_id == later.later_deal)
    return joined.drop("later_deal")


def _in_strict_order(
    previous: ir.Table, into: ir.Table, number: int, steps: int
) -> ir.BooleanValue:
    """No later listed stage entered before the previous step, nor before this one."""
    ok = _not_before(previous[f"later_{number - 1}"], previous.at)
    if number < steps:
        ok = ok & _not_before(previous[f"later_{number}"], into.change_at)
    return ok


def _not_before(moment: ir.TimestampValue, bound: ir.TimestampValue) -> ir.BooleanValue:
    return moment.isnull() | (moment >= bound)


def _earliest(joined: ir.Table, group: list[str]) -> ir.Table:
    """Per deal, the earliest matching change (``reached_at``) and the change after it.

    Along a deal's history ordered by (time, id) the next change's time never decreases, so
    the earliest matching change also has the smallest (non-NULL) next-change time: two
    minimums give the entry and its successor without ranking the changes.
    """
    return joined.group_by(*group).aggregate(
        reached_at=joined.change_at.min(), next_at=joined.change_next_at.min()
    )


def _hours(since: ir.TimestampValue, until: ir.TimestampValue) -> ir.FloatingValue:
    return (until.epoch_seconds() - since.epoch_seconds()).cast("float64") / 3600.0


def step_aggregates(levels: list[ir.Table]) -> ir.Table:
    """Deals and time quantiles per (key, cohort, step): the levels stacked and grouped."""
    stacked = ibis.union(
        *[
            level.select(
                "key",
                "cohort",
                step=ibis.literal(number, "int64"),
                from_previous=_hours(level.prev_at, level.at),
                from_start=_hours(level.start_at, level.at),
                in_stage=_hours(level.at, level.next_at),
            )
            for number, level in enumerate(levels, start=1)
        ]
    )
    return stacked.group_by("key", "cohort", "step").aggregate(
        entered=stacked.count().cast("int64"),
        median_hours_from_previous=stacked.from_previous.quantile(0.5),
        p90_hours_from_previous=stacked.from_previous.quantile(0.9),
        median_hours_from_start=stacked.from_start.quantile(0.5),
        median_hours_in_stage=stacked.in_stage.quantile(0.5),
    )


def run(runner: Runner, query: FunnelQuery) -> Result:
    """Compute the funnel; one row per (breakdown key or cohort) × step.

    Parameters
    ----------
    runner : Runner
        Executes on the chosen engine; its sources carry the caller's record scope.
    query : FunnelQuery
        Period, steps, window, grouping and filters.

    Returns
    -------
    Result
        Rows with the columns of ``COLUMNS``; groups without any deal are not listed, but
        every group lists every step (0 deals where none reached it).
    """
    steps = resolve_steps(runner, query)
    levels = funnel_levels(runner.sources, query, [step.stage_id for step in steps])
    found = runner.rows(step_aggregates(levels))
    groups = _groups(found, query)
    names = (
        labels(runner, query.breakdown, {k for k, _ in groups if k is not None})
        if query.breakdown
        else {}
    )
    rows = [
        row
        for key, cohort in groups
        for row in _group_rows(steps, found, key, cohort, _label(query, names, key))
    ]
    return Result(
        report="funnel",
        engine=runner.engine,
        columns=COLUMNS,
        rows=rows,
        formula=FORMULA,
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts={"deal": sum(r["entered"] for r in rows if r["step"] == 1)},
        drilldown={
            "endpoint": "/api/v1/analytics/funnel/dropped",
            "function": "voronka.analytics.reports.funnel.dropped_at",
            "parameters": {
                "step": f"2..{len(steps)}",
                "key": "a row's key",
                "cohort": "a row's cohort",
                "limit": f"1..{MAX_DROPPED}",
            },
            "lists": "deals that reached step − 1 but not step, with their clients",
        },
        query=query.model_dump(mode="json"),
    )


def _groups(found: list[dict[str, Any]], query: FunnelQuery) -> list[tuple[Any, Any]]:
    groups = {(r["key"], _day(r["cohort"])) for r in found}
    if not groups and query.breakdown is None and query.cohort_grain is None:
        groups = {(None, None)}  # the total funnel is shown even when nobody entered it
    return sorted(groups, key=lambda g: (g[0] is None, g[0] or 0, g[1] or date.min))


def _label(query: FunnelQuery, names: dict[int, str], key: Any) -> str:
    if query.breakdown is None:
        return "total"
    return names.get(key, "—") if key is not None else "—"


def _day(value: Any) -> date | None:
    """A date from what the engine returns: a date, a datetime, None or pandas' NaT."""
    if value is None or value != value:  # NaT, unlike every date, is not equal to itself
        return None
    return value.date() if isinstance(value, datetime) else value


def _group_rows(
    steps: list[Step], found: list[dict[str, Any]], key: Any, cohort: Any, label: str
) -> list[dict[str, Any]]:
    mine = {r["step"]: r for r in found if r["key"] == key and _day(r["cohort"]) == cohort}
    entered = [int(mine[s.number]["entered"]) if s.number in mine else 0 for s in steps]
    rows = []
    for step in steps:
        count = entered[step.number - 1]
        previous = entered[step.number - 2] if step.number > 1 else None
        figures = mine.get(step.number, {})
        rows.append(
            {
                "key": key,
                "label": label,
                "cohort": cohort,
                "step": step.number,
                "stage_id": step.stage_id,
                "stage_name": step.name,
                "entered": count,
                "conversion_from_previous_pct": ratio(count, previous, 100.0),
                "conversion_overall_pct": ratio(count, entered[0], 100.0),
                "dropped": None if previous is None else previous - count,
                **{column: figures.get(column) for column in TIME_COLUMNS},
            }
        )
    return rows


def dropped_at(
    runner: Runner,
    query: FunnelQuery,
    step: int,
    key: int | None = None,
    limit: int = 100,
    cohort: date | None = None,
) -> Result:
    """The deals (and their clients) that reached ``step − 1`` but not ``step``.

    ``key`` and ``cohort`` narrow the list to one row group of the report; None lists every
    group. Deals come in the order they reached step − 1.
    """
    steps = resolve_steps(runner, query)
    _check_drilldown(query, len(steps), step, key, cohort, limit)
    levels = funnel_levels(runner.sources, query, [s.stage_id for s in steps])
    reached, converted = levels[step - 2], levels[step - 1]
    dropped = reached.filter(~reached.deal_id.isin(converted.deal_id))
    if key is not None:
        dropped = dropped.filter(dropped.key == key)
    if cohort is not None:
        dropped = dropped.filter(dropped.cohort == ibis.date(cohort))
    listed = dropped.select("deal_id", "client_id", "key", "cohort", reached_previous_at="at")
    rows = runner.rows(listed.order_by(["reached_previous_at", "deal_id"]).limit(limit))
    for row in rows:
        row["cohort"] = _day(row["cohort"])
    return Result(
        report="funnel.dropped",
        engine=runner.engine,
        columns=list(listed.columns),
        rows=rows,
        formula={
            "deal_id": f"reached step {step - 1} ({steps[step - 2].name}) but not step "
            f"{step} ({steps[step - 1].name}) within the conversion window"
        },
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts={"deal": len(rows)},
        query={
            **query.model_dump(mode="json"),
            "step": step,
            "key": key,
            "cohort": cohort.isoformat() if cohort else None,
            "limit": limit,
        },
    )


def _check_drilldown(
    query: FunnelQuery, steps: int, step: int, key: int | None, cohort: date | None, limit: int
) -> None:
    problems = []
    if not 2 <= step <= steps:
        problems.append(ErrorDetail(f"must be between 2 and {steps}", field="step", value=step))
    if key is not None and query.breakdown is None:
        problems.append(ErrorDetail("the query has no breakdown", field="key", value=key))
    if cohort is not None and query.cohort_grain is None:
        problems.append(ErrorDetail("the query has no cohort grain", field="cohort"))
    if not 1 <= limit <= MAX_DROPPED:
        problems.append(
            ErrorDetail(f"must be between 1 and {MAX_DROPPED}", field="limit", value=limit)
        )
    if problems:
        raise InvalidInput("invalid drill-down of the funnel", problems)


REPORT = Report(
    name="funnel",
    title_en="Sales funnel",
    title_ru="Воронка продаж",
    query=FunnelQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal",),
)
