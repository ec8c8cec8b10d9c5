"""The journey report: what happens before a client's first purchase and after a purchase.

Pre-sale, for clients whose first revenue order ever is paid in the period: which channels
touched them in the lookback window before that purchase (any touch, first touch, last
touch), how much they visited the site first, how long from the first touch to the purchase;
and, for visitors who never bought, the landing pages they most often left at once.

Post-sale, for clients who paid a revenue order in the period: satisfaction (CSAT, NPS) given
after their first purchase of the period, repeat purchase within the period, support tickets
opened after that purchase, and the referrals they brought.

Touchpoints are matched to clients through their ``client_id`` or, for anonymous touchpoints,
through their tracker ``visitor_id`` when exactly one client is known behind that visitor.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field

from voronka.analytics import derived
from voronka.analytics.catalog import Report
from voronka.analytics.facts import Fact
from voronka.analytics.labels import labels
from voronka.analytics.metrics.measures import MEASURES, count_where
from voronka.analytics.metrics.registry import METRICS, ratio
from voronka.analytics.query import Breakdown, Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources

DAY_SECONDS = 86400
TOP_EXITS = 20
REFERRAL_MEDIUM = "referral"


class Section(StrEnum):
    PRESALE = "presale"
    POSTSALE = "postsale"


class JourneyQuery(Strict):
    period: Period
    filters: Filters = Filters()
    lookback_days: int = Field(30, ge=1, le=366)
    section: Section = Section.PRESALE


def _seconds_between(earlier: ir.TimestampValue, later: ir.TimestampValue) -> ir.IntegerValue:
    return later.epoch_seconds() - earlier.epoch_seconds()


# --- who is who: buyers and the touchpoints that are theirs ---------------------------------


def people_touchpoints(s: Sources) -> ir.Table:
    """Touchpoints with ``person``: their client, else the one client known for the visitor.

    A visitor id seen with two or more clients (a shared computer) names nobody.
    """
    t, owners = s["touchpoint"], s["visitor_owner"]  # owners are kept per visitor (derived.py)
    owners = owners.select(owned_visitor=owners.visitor_id, owner=owners.owner)
    j = t.left_join(owners, t.visitor_id == owners.owned_visitor)
    return j.mutate(person=ibis.coalesce(j.client_id, j.owner)).drop("owned_visitor", "owner")


def new_buyers(s: Sources, query: JourneyQuery) -> ir.Table:
    """``(buyer, purchase_at)``: clients whose first revenue order ever is paid in the period."""
    first = MEASURES["new_buyers"].fact(s).within(s, query.period, query.filters)
    return first.select(buyer=first.client_id, purchase_at=first.paid_at)


def period_buyers(s: Sources, query: JourneyQuery) -> ir.Table:
    """``(buyer, purchase_at)``: clients with a revenue order in the period, at their first."""
    paid = MEASURES["buyers"].fact(s).within(s, query.period, query.filters)
    return paid.group_by(buyer=paid.client_id).aggregate(purchase_at=paid.paid_at.min())


# --- pre-sale --------------------------------------------------------------------------------


def touches_before_purchase(s: Sources, query: JourneyQuery) -> ir.Table:
    """Each new buyer's touchpoints in the ``lookback_days`` up to the purchase (inclusive).

    Read from the buyers' pre-sale touches kept per client (``derived.presale_touch``), so
    that only the touches of the period's new buyers are read, not every touchpoint.
    """
    kept = s["presale_touch"]
    start = datetime.combine(query.period.start, time.min) - s.utc_offset
    end = datetime.combine(query.period.end_exclusive, time.min) - s.utc_offset
    kept = kept.filter(kept.first_paid_at >= ibis.timestamp(start),
                       kept.first_paid_at < ibis.timestamp(end))
    buyers = new_buyers(s, query)
    j = kept.join(buyers, kept.client_id == buyers.buyer)
    before = _seconds_between(j.occurred_at, j.purchase_at)
    return j.filter(before >= 0, before <= query.lookback_days * DAY_SECONDS)


def channel_touches(s: Sources, query: JourneyQuery) -> ir.Table:
    """Per touch channel: buyers it touched, and buyers whose first / last touch it was."""
    t = touches_before_purchase(s, query)
    ranked = t.mutate(
        from_first=ibis.row_number().over(group_by=t.buyer, order_by=[t.occurred_at, t.id]),
        from_last=ibis.row_number().over(
            group_by=t.buyer, order_by=[t.occurred_at.desc(), t.id.desc()]
        ),
    )
    return ranked.group_by(key=ranked.channel_id.cast("int64")).aggregate(
        buyers_touched=ranked.buyer.nunique(),
        first_touch=count_where(ranked.from_first == 0),  # row_number starts at 0 in ibis
        last_touch=count_where(ranked.from_last == 0),
    )


def presale_summary(s: Sources, query: JourneyQuery) -> ir.Table:
    """One row: buyers, how many were touched / visited, and medians and p90s per buyer.

    Visits, pages and seconds are taken over the buyers with at least one visit in the
    window; days to purchase over the buyers with at least one touch.
    """
    buyers, t = new_buyers(s, query), touches_before_purchase(s, query)
    visits = t.filter(t.kind == "visit")
    per_visits = visits.group_by(visit_buyer=visits.buyer).aggregate(
        visits=visits.count().cast("float64"),
        pages=visits.pages.sum().cast("float64"),
        seconds=visits.seconds_on_site.sum().cast("float64"),
    )
    per_touch = t.group_by(touch_buyer=t.buyer).aggregate(first_touch_at=t.occurred_at.min())
    j = buyers.left_join(per_visits, buyers.buyer == per_visits.visit_buyer)
    j = j.left_join(per_touch, j.buyer == per_touch.touch_buyer)
    days = _seconds_between(j.first_touch_at, j.purchase_at).cast("float64") / DAY_SECONDS
    return j.aggregate(
        buyers=j.count(),
        buyers_touched=j.first_touch_at.count(),
        buyers_with_visits=j.visits.count(),
        visits_median=j.visits.quantile(0.5),
        visits_p90=j.visits.quantile(0.9),
        pages_median=j.pages.quantile(0.5),
        pages_p90=j.pages.quantile(0.9),
        seconds_median=j.seconds.quantile(0.5),
        seconds_p90=j.seconds.quantile(0.9),
        days_to_purchase_median=days.quantile(0.5),
    )


def _visit_filters(filters: Filters) -> Filters:
    """The filters a visit can take (it has a channel and a campaign, nothing else)."""
    return Filters(channel_ids=filters.channel_ids, campaign_ids=filters.campaign_ids)


def exits(s: Sources, query: JourneyQuery) -> ir.Table:
    """Landing pages of visits in the period by visitors who never bought, by bounces.

    A visitor never bought when neither the visit's client nor any client ever seen with its
    visitor id has paid a revenue order. A bounce is a visit of one page (or none recorded).
    The 20 pages with most bounces, then most visits.
    """
    whole_hours = s.utc_offset.total_seconds() % 3600 == 0
    # kept per hour in the snapshot (derived.py); other zones' days need minutes
    counted = s["stranger_visit_hour"] if whole_hours else derived.stranger_visits(s.tables, "m")
    counted = counted.mutate(dim_channel=counted.channel_id, dim_campaign=counted.campaign_id)
    counted = Fact("visits", counted, "hour").within(
        s, query.period, _visit_filters(query.filters)
    )
    pages = counted.group_by("landing_page").aggregate(
        visits=counted.visits.sum(), bounces=counted.bounces.sum()
    )
    return pages.order_by(
        [pages.bounces.desc(), pages.visits.desc(), pages.landing_page.asc()]
    ).limit(TOP_EXITS)


def presale(runner: Runner, query: JourneyQuery) -> tuple[list[dict[str, Any]], dict[str, int]]:
    s = runner.sources
    summary = runner.rows(presale_summary(s, query))[0]
    buyers = int(summary["buyers"])
    rows = [
        {"part": "summary", "figure": name, "value": _number(value)}
        for name, value in summary.items()
    ]
    rows += _channel_rows(runner, runner.rows(channel_touches(s, query)), buyers)
    rows += [_exit_row(found) for found in runner.rows(exits(s, query))]
    return rows, {"new_buyers": buyers}


def _channel_rows(runner: Runner, found: list[dict[str, Any]], buyers: int) -> list[dict[str, Any]]:
    """Channel rows, the channel that touched most buyers first."""
    names = labels(runner, Breakdown.CHANNEL, {r["key"] for r in found if r["key"] is not None})
    ordered = sorted(found, key=lambda r: (-r["buyers_touched"], r["key"] is None, r["key"] or 0))
    return [
        {
            "part": "channel",
            "key": r["key"],
            "label": names.get(r["key"], "—") if r["key"] is not None else "no channel",
            "buyers_touched": int(r["buyers_touched"]),
            "share_pct": ratio(r["buyers_touched"], buyers, 100.0),
            "first_touch": int(r["first_touch"]),
            "last_touch": int(r["last_touch"]),
        }
        for r in ordered
    ]


def _exit_row(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "part": "exit",
        "label": found["landing_page"],
        "visits": int(found["visits"]),
        "bounces": int(found["bounces"]),
        "bounce_rate_pct": ratio(found["bounces"], found["visits"], 100.0),
    }


# --- post-sale -------------------------------------------------------------------------------


def _after_purchase(table: ir.Table, buyers: ir.Table) -> ir.Table:
    """Rows of ``table`` (client_id, created_at) of a buyer, created at or after the purchase."""
    j = table.join(buyers, table.client_id == buyers.buyer)
    return j.filter(j.created_at >= j.purchase_at)


def feedback_after(s: Sources, buyers: ir.Table) -> ir.Table:
    f = _after_purchase(s["feedback"], buyers)
    csat, nps = f.kind == "csat", f.kind == "nps"
    return f.aggregate(
        csat_sum=ibis.coalesce(csat.ifelse(f.score, 0).sum(), 0).cast("float64"),
        csat_count=count_where(csat).cast("float64"),
        nps_promoters=count_where(nps & (f.score >= 9)).cast("float64"),
        nps_detractors=count_where(nps & (f.score <= 6)).cast("float64"),
        nps_count=count_where(nps).cast("float64"),
    )


def tickets_after(s: Sources, buyers: ir.Table) -> ir.Table:
    tickets = s["ticket"]
    t = _after_purchase(tickets.filter(~tickets.is_deleted), buyers)
    return t.aggregate(
        tickets=t.count().cast("float64"), buyers_with_ticket=t.buyer.nunique().cast("float64")
    )


def referrals_after(s: Sources, buyers: ir.Table) -> ir.Table:
    """Referral touchpoints carrying a buyer's visitor id as ``utm_source``, after purchase.

    A buyer's visitor ids are those of touchpoints matched to the buyer; the referred visit
    must come from another visitor (a buyer following their own link is not a referral).
    """
    people = people_touchpoints(s)
    mine = people.join(buyers, people.person == buyers.buyer)
    links = (
        mine.filter(mine.visitor_id.notnull())
        .select(link=mine.visitor_id, link_owner=mine.buyer, owner_bought_at=mine.purchase_at)
        .distinct()
    )
    t = s["touchpoint"]
    referred = t.filter(t.utm_medium.lower() == REFERRAL_MEDIUM, t.utm_source.notnull())
    j = referred.join(links, referred.utm_source == links.link)
    j = j.filter(
        j.occurred_at >= j.owner_bought_at, j.visitor_id.isnull() | (j.visitor_id != j.link)
    )
    return j.aggregate(
        referrals=j.count().cast("float64"),
        referred_visitors=j.visitor_id.nunique().cast("float64"),
        referring_buyers=j.link_owner.nunique().cast("float64"),
    )


def repeat_buyers(s: Sources, query: JourneyQuery) -> ir.Table:
    """The registry's repeat purchase measures over the period (one row)."""
    parts = {
        name: MEASURES[name].expression(s, query.period, None, query.filters)
        for name in ("repeat_buyers", "buyers")
    }
    repeat, buyers = parts["repeat_buyers"], parts["buyers"]
    return repeat.select(repeat_buyers=repeat.value).cross_join(buyers.select(buyers=buyers.value))


def postsale_summary(s: Sources, query: JourneyQuery) -> ir.Table:
    """Every post-sale aggregate in one row (single-row aggregates, cross joined)."""
    buyers = period_buyers(s, query)
    out = repeat_buyers(s, query)
    for part in (feedback_after(s, buyers), tickets_after(s, buyers), referrals_after(s, buyers)):
        out = out.cross_join(part)
    return out


def postsale(runner: Runner, query: JourneyQuery) -> tuple[list[dict[str, Any]], dict[str, int]]:
    got = runner.rows(postsale_summary(runner.sources, query))[0]
    buyers = got["buyers"] or 0.0
    figures = {
        "buyers": buyers,
        "csat": METRICS["csat"].value(got, query.period.days),
        "csat_answers": got["csat_count"],
        "nps": METRICS["nps"].value(got, query.period.days),
        "nps_answers": got["nps_count"],
        "repeat_buyers": got["repeat_buyers"],
        "repeat_purchase_rate": METRICS["repeat_purchase_rate"].value(got, query.period.days),
        "tickets": got["tickets"],
        "tickets_per_buyer": ratio(got["tickets"], buyers),
        "buyers_with_ticket": got["buyers_with_ticket"],
        "ticket_share_pct": ratio(got["buyers_with_ticket"], buyers, 100.0),
        "referrals": got["referrals"],
        "referred_visitors": got["referred_visitors"],
        "referring_buyers": got["referring_buyers"],
        "referring_share_pct": ratio(got["referring_buyers"], buyers, 100.0),
    }
    rows = [
        {"part": "summary", "figure": name, "value": _number(value)}
        for name, value in figures.items()
    ]
    return rows, {"buyers": int(buyers)}


# --- the report ------------------------------------------------------------------------------


def _number(value: Any) -> int | float | None:
    """Whole numbers as int (counts), others as float; None stays None."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


COLUMNS = {
    Section.PRESALE: (
        "part",
        "figure",
        "value",
        "key",
        "label",
        "buyers_touched",
        "share_pct",
        "first_touch",
        "last_touch",
        "visits",
        "bounces",
        "bounce_rate_pct",
    ),
    Section.POSTSALE: ("part", "figure", "value"),
}


def run(runner: Runner, query: JourneyQuery) -> Result:
    """Compute one section of the journey; rows are tagged by ``part``."""
    rows, row_counts = (presale if query.section is Section.PRESALE else postsale)(runner, query)
    columns = COLUMNS[query.section]
    return Result(
        report="journey",
        engine=runner.engine,
        columns=list(columns),
        rows=[{column: row.get(column) for column in columns} for row in rows],
        formula=FORMULAS[query.section],
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts=row_counts,
        query=query.model_dump(mode="json"),
    )


FORMULAS = {
    Section.PRESALE: {
        "buyers": "clients whose first revenue order ever is paid in the period",
        "touch": "a touchpoint of the buyer (any kind) from lookback_days before the first "
        "purchase up to it",
        "share_pct": "buyers touched by the channel ÷ buyers × 100%",
        "first_touch / last_touch": "buyers whose earliest / latest touch was on the channel",
        "visits, pages, seconds": "per buyer with ≥ 1 visit in the window: visits, pages "
        "viewed, seconds on site; median and 90th percentile",
        "days_to_purchase_median": "median over touched buyers of (purchase − first touch) "
        "in days; at most lookback_days",
        "exit": "visits in the period by visitors never matched to a paying client, by landing "
        "page; bounces = visits of ≤ 1 page; top 20 by bounces",
    },
    Section.POSTSALE: {
        "buyers": "clients with a revenue order paid in the period",
        "csat, nps": "feedback created at or after the buyer's first revenue order of the "
        "period; " + METRICS["csat"].formula + "; " + METRICS["nps"].formula,
        "repeat_purchase_rate": METRICS["repeat_purchase_rate"].formula,
        "tickets_per_buyer": "tickets opened at or after that purchase ÷ buyers",
        "ticket_share_pct": "buyers with such a ticket ÷ buyers × 100%",
        "referrals": "touchpoints with utm_medium = 'referral' whose utm_source is a visitor "
        "id of the buyer, from another visitor, at or after the purchase",
    },
}

REPORT = Report(
    name="journey",
    title_en="Pre-sale and post-sale journey",
    title_ru="Путь клиента до и после покупки",
    query=JourneyQuery,
    run=run,  # type: ignore[arg-type]
    # ticket and feedback are read by the post-sale section; today they have the same
    # policy rows as deal and order, listed so that a future difference is respected.
    resources=("deal", "order", "touchpoint", "ticket", "feedback"),
)
