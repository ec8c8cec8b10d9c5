"""The campaigns report: leads, sales, money and returns per campaign and per channel.

For a period, one row per campaign (grouped under its channel), one per channel and one total:
leads, won deals, attributed revenue, spend, clicks, impressions, CPL, CAC, ROMI, and how many
of the leads came from new clients and how many from clients who had bought before. Every
figure is a registry measure (or a measure declared here over the same facts) aggregated by
the engine in one UNION ALL query; CPL, CAC and ROMI are the registry's formulas.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import ibis
import ibis.expr.types as ir

from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.facts import Fact
from voronka.analytics.labels import labels
from voronka.analytics.metrics.measures import MEASURES, Measure, count_where, measure_rows
from voronka.analytics.metrics.registry import METRICS
from voronka.analytics.query import Breakdown, Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources

CAMPAIGN, CHANNEL, TOTAL = "campaign", "channel", "total"
_LEVELS = {CAMPAIGN: Breakdown.CAMPAIGN, CHANNEL: Breakdown.CHANNEL, TOTAL: None}


class CampaignsQuery(Strict):
    period: Period
    filters: Filters = Filters()
    channel_id: int | None = None  # only this channel's campaigns (and its channel row)

    def effective_filters(self) -> Filters:
        """``filters`` narrowed to ``channel_id`` when one is given."""
        if self.channel_id is None:
            return self.filters
        chosen = self.filters.channel_ids
        if chosen is not None and self.channel_id not in chosen:
            return self.filters.model_copy(update={"channel_ids": ()})
        return self.filters.model_copy(update={"channel_ids": (self.channel_id,)})


def _leads_with_purchase_history(s: Sources) -> Fact:
    """Deals with the moment their client's first revenue order was paid (NULL: never)."""
    deals, orders = facts.deals(s), facts.orders(s)
    first = orders.group_by(buyer=orders.client_id).aggregate(first_paid_at=orders.paid_at.min())
    joined = deals.left_join(first, deals.client_id == first.buyer)
    return Fact("deals created", joined.drop("buyer"), "created_at")


def _is_loyal(t: ir.Table) -> ir.BooleanColumn:
    """The client had paid a revenue order before the deal was created."""
    return t.first_paid_at.notnull() & (t.first_paid_at < t.created_at)


_SPEND_FACT = MEASURES["spend"].fact
#: Measures of this report besides the registry's (same facts, same period rules).
OWN_MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("clicks", _SPEND_FACT, lambda t: ibis.coalesce(t.clicks.sum(), 0), "ad clicks"),
        Measure(
            "impressions",
            _SPEND_FACT,
            lambda t: ibis.coalesce(t.impressions.sum(), 0),
            "ad impressions",
        ),
        Measure(
            "loyal_leads",
            _leads_with_purchase_history,
            lambda t: count_where(_is_loyal(t)),
            "leads from clients with a revenue order paid before the deal was created",
        ),
    )
}
REGISTRY_MEASURES = ("leads", "won", "revenue", "spend", "new_buyers")
COUNTS = ("leads", "won", "clicks", "impressions", "new_buyers", "loyal_leads")


def measure(name: str) -> Measure:
    return OWN_MEASURES.get(name) or MEASURES[name]


def measure_union(sources: Sources, query: CampaignsQuery) -> ir.Table:
    """Every measure at every level (campaign, channel, total) in one table."""
    filters = query.effective_filters()
    measures = {name: measure(name) for name in (*REGISTRY_MEASURES, *OWN_MEASURES)}
    # every measure here is a count or a sum: one pass per (campaign, channel) pair, summed
    # up to each level (what GROUPING SETS would do, portably)
    pairs = measure_rows(sources, measures, {"current": query.period}, Breakdown.CAMPAIGN,
                         filters, also=Breakdown.CHANNEL)
    levels = {CAMPAIGN: pairs.key, CHANNEL: pairs.key2, TOTAL: ibis.null("int64")}
    return ibis.union(*[
        pairs.group_by("measure", key=key).aggregate(
            value=pairs.value.sum(), rows=pairs.rows.sum()).mutate(level=ibis.literal(level))
        for level, key in levels.items()
    ])


def _figures(values: dict[str, float | None], days: int) -> dict[str, Any]:
    """The row's numbers: counts as integers, money as floats, the registry's ratios."""
    got = {name: values.get(name) or 0.0 for name in (*REGISTRY_MEASURES, *OWN_MEASURES)}
    out: dict[str, Any] = {name: int(got[name]) for name in COUNTS}
    out["new_client_leads"] = out["leads"] - out["loyal_leads"]
    out["revenue"], out["spend"] = got["revenue"], got["spend"]
    for slug in ("cpl", "cac", "romi"):
        out[slug] = METRICS[slug].value(got, days)
    return out


COLUMNS = (
    "level",
    "channel_id",
    "channel",
    "campaign_id",
    "campaign",
    "leads",
    "new_client_leads",
    "loyal_client_leads",
    "won",
    "revenue",
    "spend",
    "clicks",
    "impressions",
    "new_buyers",
    "cpl",
    "cac",
    "romi",
)


def _row(
    level: str,
    channel: Any,
    campaign: Any,
    values: dict[str, float | None],
    days: int,
    names: _Names,
) -> dict[str, Any]:
    figures = _figures(values, days)
    figures["loyal_client_leads"] = figures.pop("loyal_leads")
    row = {
        "level": level,
        "channel_id": channel,
        "channel": names.channel(channel, level),
        "campaign_id": campaign,
        "campaign": names.campaign(campaign, level),
        **figures,
    }
    return {column: row[column] for column in COLUMNS}


class _Names:
    """Channel and campaign names, and each campaign's channel."""

    def __init__(self, runner: Runner, campaigns: set[int], channels: set[int]) -> None:
        t = runner.sources["campaign"]
        found = (
            runner.rows(
                t.filter(t.id.isin(sorted(campaigns))).select(
                    key=t.id, label=t.name, channel_id=t.channel_id
                )
            )
            if campaigns
            else []
        )
        self.campaigns = {int(r["key"]): str(r["label"]) for r in found}
        self.channel_of = {int(r["key"]): int(r["channel_id"]) for r in found}
        wanted = channels | set(self.channel_of.values())
        self.channels = labels(runner, Breakdown.CHANNEL, wanted)

    def channel(self, key: Any, level: str) -> str:
        if level == TOTAL:
            return "total"
        if key is None:  # the no-campaign row mixes channels; the no-channel row has none
            return "no channel" if level == CHANNEL else "—"
        return self.channels.get(key, "—")

    def campaign(self, key: Any, level: str) -> str | None:
        if level != CAMPAIGN:
            return None
        return self.campaigns.get(key, "—") if key is not None else "no campaign"


def _ordered(
    values: dict[tuple[str, Any], dict[str, float | None]],
    names: _Names,
    channel_filter: int | None,
) -> list[tuple[str, Any, Any]]:
    """(level, channel, campaign) in reading order.

    Each channel, then its campaigns; then the leads, orders and clicks without a campaign
    (whatever their channel); then the total.
    """
    campaigns = [key for (level, key) in values if level == CAMPAIGN and key is not None]
    channels = {key for (level, key) in values if level == CHANNEL}
    channels |= {names.channel_of.get(c) for c in campaigns}
    if channel_filter is not None:
        channels &= {channel_filter}
    out: list[tuple[str, Any, Any]] = []
    for channel in sorted(channels, key=_nulls_last):
        out.append((CHANNEL, channel, None))
        mine = [c for c in campaigns if names.channel_of.get(c) == channel]
        out += [(CAMPAIGN, channel, c) for c in sorted(mine)]
    if (CAMPAIGN, None) in values:
        out.append((CAMPAIGN, None, None))
    return [*out, (TOTAL, None, None)]


def _nulls_last(key: Any) -> tuple[bool, int]:
    return (key is None, key or 0)


def run(runner: Runner, query: CampaignsQuery) -> Result:
    """Compute the campaign table: channel rows, their campaign rows, and a total."""
    values: dict[tuple[str, Any], dict[str, float | None]] = defaultdict(dict)
    row_counts: dict[str, int] = defaultdict(int)
    for found in runner.rows(measure_union(runner.sources, query)):
        values[(found["level"], found["key"])][found["measure"]] = found["value"]
        if found["level"] == TOTAL:
            row_counts[found["measure"]] += int(found["rows"] or 0)
    keyed = {
        level: {key for (lv, key) in values if lv == level and key is not None}
        for level in (CAMPAIGN, CHANNEL)
    }
    names = _Names(runner, keyed[CAMPAIGN], keyed[CHANNEL])
    rows = [
        _row(
            level,
            channel,
            campaign,
            values.get((level, campaign if level == CAMPAIGN else channel), {}),
            query.period.days,
            names,
        )
        for level, channel, campaign in _ordered(values, names, query.channel_id)
    ]
    return Result(
        report="campaigns",
        engine=runner.engine,
        columns=list(COLUMNS),
        rows=rows,
        formula=FORMULAS,
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts=dict(row_counts),
        drilldown={
            "endpoint": "/api/v1/analytics/drilldown",
            "breakdown": {CAMPAIGN: "campaign", CHANNEL: "channel"},
            "measures": {
                "leads": ["leads"],
                "won": ["won"],
                "revenue": ["revenue"],
                "spend": ["spend"],
                "new_buyers": ["new_buyers"],
            },
        },
        query=query.model_dump(mode="json"),
    )


FORMULAS = {
    "leads": METRICS["leads"].formula,
    "won": METRICS["won_deals"].formula,
    "revenue": "revenue orders paid in the period, attributed to the order's deal's campaign "
    "(else the client's source campaign)",
    "spend": METRICS["ad_spend"].formula,
    "clicks": "sum of daily ad clicks",
    "impressions": "sum of daily ad impressions",
    "new_buyers": "clients whose first revenue order ever is paid in the period, attributed "
    "like revenue",
    "loyal_client_leads": "leads whose client had paid a revenue order before the deal was created",
    "new_client_leads": "leads − loyal_client_leads",
    "cpl": METRICS["cpl"].formula,
    "cac": METRICS["cac"].formula,
    "romi": METRICS["romi"].formula,
}

REPORT = Report(
    name="campaigns",
    title_en="Campaigns",
    title_ru="Рекламные кампании",
    query=CampaignsQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal", "order", "ad_spend"),
)
