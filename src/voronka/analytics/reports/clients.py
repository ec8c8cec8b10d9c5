"""The clients report: financial rating with ABC classes, RFM scores and segments, and a
summary of new vs returning clients.

Revenue facts are revenue orders (``facts.orders``: paid, neither cancelled nor returned);
deal facts are deals created and deals won in the period, exactly as the ``leads`` and
``won`` measures count them. Everything per client is aggregated by the engine in one query
per section; Python only turns the few returned numbers into shares and ratios.

ABC rule (documented in docs/analytics/clients.md): clients are ordered by revenue
(descending, then client id); a client's cumulative share *starts* at the revenue of the
clients before it ÷ all revenue. A client whose share starts below ``a_share`` is A, below
``a_share + b_share`` is B, otherwise C — so the client straddling a boundary belongs to the
class in which its share starts, the top client is always A, and clients without revenue
are always C.

RFM scores are tie-aware quantile bins: ``score = 1 + ⌊bins × rank ÷ n⌋`` where ``rank`` is
the number of paying clients strictly worse on that measure (SQL ``RANK() − 1``) and ``n``
the number of paying clients, so equal values always get equal scores on every engine. They
are computed from a few thresholds per measure (``_thresholds``), not by ranking.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field, model_validator

from voronka.analytics.catalog import Report
from voronka.analytics.metrics.measures import MEASURES
from voronka.analytics.metrics.registry import METRICS, ratio
from voronka.analytics.query import Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner, constant_table
from voronka.analytics.sources import Sources

#: Published 5-score R-F-M segment map: every code ``R F M`` (each 1..5) belongs to exactly
#: one of eleven segments. Source: the widely reproduced RFM segment table (Squeezely, "RFM
#: segments", default segment values; the same table appears in many public RFM analyses).
# a table reads better in rows
# fmt: off
SEGMENT_CODES: dict[str, tuple[int, ...]] = {
    "Champions": (555, 554, 544, 545, 454, 455, 445),
    "Loyal customers": (543, 444, 435, 355, 354, 345, 344, 335),
    "Potential loyalists": (553, 551, 552, 541, 542, 533, 532, 531, 452, 451, 442, 441, 431,
                            453, 433, 432, 423, 353, 352, 351, 342, 341, 333, 323),
    "New customers": (512, 511, 422, 421, 412, 411, 311),
    "Promising": (525, 524, 523, 522, 521, 515, 514, 513, 425, 424, 413, 414, 415, 315, 314,
                  313),
    "Need attention": (535, 534, 443, 434, 343, 334, 325, 324),
    "About to sleep": (331, 321, 312, 221, 213, 231, 241, 251),
    "At risk": (255, 254, 245, 244, 253, 252, 243, 242, 235, 234, 225, 224, 153, 152, 145, 143,
                142, 135, 134, 133, 125, 124),
    "Can't lose them": (155, 154, 144, 214, 215, 115, 114, 113),
    "Hibernating": (332, 322, 233, 232, 223, 222, 132, 123, 122, 212, 211),
    "Lost": (111, 112, 121, 131, 141, 151),
}
# fmt: on
SEGMENTS = tuple(SEGMENT_CODES)
SEGMENT_BINS = 5  # the map is defined on quintile scores whatever ``rfm_bins`` is


class ClientSection(StrEnum):
    RATING = "rating"
    RFM = "rfm"
    SUMMARY = "summary"


class AbcClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class ClientsQuery(Strict):
    period: Period
    filters: Filters = Filters()
    a_share: float = Field(0.8, gt=0, le=1, description="Revenue share of class A.")
    b_share: float = Field(0.15, ge=0, le=1, description="Revenue share of class B.")
    rfm_bins: int = Field(5, ge=2, le=10, description="Number of R, F and M score bins.")
    limit: int = Field(1000, ge=1, le=100_000, description="Most client rows returned.")
    section: ClientSection = ClientSection.RATING
    abc_class: AbcClass | None = Field(None, description="Rating rows of this class only.")
    segment: str | None = Field(None, description="RFM rows of this segment only.")

    @model_validator(mode="after")
    def _consistent(self) -> ClientsQuery:
        if self.a_share + self.b_share > 1 + 1e-9:
            raise ValueError("a_share + b_share must not exceed 1")
        if self.segment is not None and self.segment not in SEGMENT_CODES:
            raise ValueError(f"unknown segment; known: {', '.join(SEGMENTS)}")
        if self.abc_class is not None and self.section is not ClientSection.RATING:
            raise ValueError("abc_class applies to the rating section only")
        if self.segment is not None and self.section is not ClientSection.RFM:
            raise ValueError("segment applies to the rfm section only")
        return self

    @property
    def b_cut(self) -> float:
        """Where class B ends; rounded so that 0.8 + 0.15 compares as 0.95, not 0.9500…01."""
        return round(self.a_share + self.b_share, 9)


# --- per-client facts ---------------------------------------------------------------------


def client_facts(s: Sources, period: Period, filters: Filters) -> ir.Table:
    """One row per client with a revenue order, a created deal or a won deal in the period."""
    orders = MEASURES["revenue"].fact(s).within(s, period, filters, any_columns=False)
    created = MEASURES["leads"].fact(s).within(s, period, filters, any_columns=False)
    won = MEASURES["won"].fact(s).within(s, period, filters, any_columns=False)
    zero, none = ibis.literal(0, "int64"), ibis.null("int64")
    no_time = ibis.null("timestamp")
    parts = [
        orders.select(
            client_id=orders.client_id,
            revenue_minor=orders.total_minor.cast("int64"),
            order_total_minor=orders.total_minor.cast("int64"),
            is_order=ibis.literal(1, "int64"),
            is_created=zero,
            is_won=zero,
            paid_at=orders.paid_at.cast("timestamp"),
        ),
        created.select(
            client_id=created.client_id,
            revenue_minor=zero,
            order_total_minor=none,
            is_order=zero,
            is_created=ibis.literal(1, "int64"),
            is_won=zero,
            paid_at=no_time,
        ),
        won.select(
            client_id=won.client_id,
            revenue_minor=zero,
            order_total_minor=none,
            is_order=zero,
            is_created=zero,
            is_won=ibis.literal(1, "int64"),
            paid_at=no_time,
        ),
    ]
    rows = ibis.union(*parts)
    return rows.group_by("client_id").aggregate(
        revenue_minor=rows.revenue_minor.sum(),
        orders=rows.is_order.sum(),
        deals_created=rows.is_created.sum(),
        deals_won=rows.is_won.sum(),
        largest_order_minor=rows.order_total_minor.max(),
        last_paid_at=rows.paid_at.max(),
    )


def paying_clients(s: Sources, period: Period, filters: Filters) -> ir.Table:
    """The ``client_facts`` columns RFM reads, for clients with a revenue order in the period.

    Only the orders are read: RFM needs no deals, and every paying client has an order.
    """
    orders = MEASURES["revenue"].fact(s).within(s, period, filters, any_columns=False)
    return orders.group_by("client_id").aggregate(
        revenue_minor=orders.total_minor.cast("int64").sum(),
        orders=orders.count().cast("int64"),
        last_paid_at=orders.paid_at.cast("timestamp").max(),
    )


def with_abc(clients: ir.Table, a_cut: float, b_cut: float) -> ir.Table:
    """Add ``rank``, the cumulative revenue and the ABC class (see the module docstring)."""
    order = [clients.revenue_minor.desc(), clients.client_id.asc()]
    ranked = clients.mutate(
        rank=ibis.row_number().over(order_by=order) + 1,
        cumulative_minor=clients.revenue_minor.sum().over(ibis.cumulative_window(order_by=order)),
        total_minor=clients.revenue_minor.sum().over(),
        clients_total=clients.count().over(),
    )
    # NULLIF: all-zero revenue must not divide by zero (PostgreSQL raises); NULL falls to C
    total = ranked.total_minor.nullif(0).cast("float64")
    starts_at = (ranked.cumulative_minor - ranked.revenue_minor).cast("float64") / total
    return ranked.mutate(
        abc_class=ibis.cases(
            (starts_at < a_cut, AbcClass.A.value),
            (starts_at < b_cut, AbcClass.B.value),
            else_=AbcClass.C.value,
        )
    )


def _thresholds(t: ir.Table, column: str, bins: int, prefix: str) -> ir.Table:
    """One row: ``{prefix}_n``, the number of rows, and ``{prefix}_1`` … ``{prefix}_{bins−1}``.

    Threshold ``k`` is the ``c``-th smallest value of ``column`` with ``c = ⌈k × n ÷ bins⌉``,
    read off the cumulative histogram of its distinct values. A value ``v`` has at least
    ``c`` values strictly below it exactly when that threshold is below ``v``, so
    ``score = 1 + ⌊bins × rank ÷ n⌋`` (``rank``: values strictly below) is 1 + the number of
    thresholds below ``v``: ties share a score, as with ``RANK()``, yet only the distinct
    values are sorted, not every row.
    """
    histogram = t.group_by(v=t[column]).aggregate(count=t.count())
    c = histogram.mutate(
        at_or_below=histogram["count"].sum().over(ibis.cumulative_window(order_by=histogram.v)),
        n=histogram["count"].sum().over(),
    )
    # at_or_below ≥ ⌈k × n ÷ bins⌉  ⇔  at_or_below × bins ≥ k × n  (integers, no division)
    return c.aggregate(
        **{f"{prefix}_n": c.n.max()},
        **{f"{prefix}_{k}": c.v.min(where=c.at_or_below * bins >= c.n * k)
           for k in range(1, bins)},
    )


def _score(t: ir.Table, column: str, prefix: str, bins: int) -> ir.IntegerValue:
    """1 + how many of ``column``'s ``_thresholds`` (joined to ``t``) lie strictly below it."""
    score: ir.IntegerValue = ibis.literal(1, "int64")
    for k in range(1, bins):
        score = score + (t[column] > t[f"{prefix}_{k}"]).ifelse(1, 0)
    return score


def with_rfm(s: Sources, paying: ir.Table, period: Period, bins: int) -> ir.Table:
    """Add recency, the R, F, M scores (1..``bins``), the segment code and ``paying_total``.

    Scores are tie-aware quantile bins (module docstring), computed from per-measure
    thresholds (``_thresholds``) rather than by ranking every client three times.

    Parameters
    ----------
    paying
        ``client_facts`` rows of clients with at least one revenue order in the period.

    References
    ----------
    Hughes, A. M. (1994). *Strategic Database Marketing*. Probus (RFM quintile scoring).
    """
    last_day = s.local(paying.last_paid_at).truncate("D")
    end = ibis.timestamp(datetime.combine(period.end, time.min))
    recency = ((end.epoch_seconds() - last_day.epoch_seconds()) / 86400).round().cast("int64")
    # each measure turned so that less is worse: longer ago, fewer orders, less revenue
    t = paying.mutate(recency_days=recency, r_value=-recency,
                      f_value=paying.orders.cast("int64"),
                      m_value=paying.revenue_minor.cast("int64"))
    scored = t
    for measure in "rfm":
        for grid in sorted({bins, SEGMENT_BINS}):
            scored = scored.cross_join(_thresholds(t, f"{measure}_value", grid,
                                                   f"{measure}{grid}"))

    def score(measure: str, grid: int) -> ir.IntegerValue:
        return _score(scored, f"{measure}_value", f"{measure}{grid}", grid)

    scored = scored.mutate(
        paying_total=scored[f"r{bins}_n"],
        r_score=score("r", bins),
        f_score=score("f", bins),
        m_score=score("m", bins),
        segment_code=score("r", SEGMENT_BINS) * 100 + score("f", SEGMENT_BINS) * 10
        + score("m", SEGMENT_BINS),
    )
    return scored.select(*paying.columns, "recency_days", "paying_total", "r_score",
                         "f_score", "m_score", "segment_code")


def with_segment(t: ir.Table) -> ir.Table:
    """Add the named ``segment`` of each ``segment_code`` (a join on a small lookup table)."""
    lookup = constant_table(
        {"code": [c for codes in SEGMENT_CODES.values() for c in codes],
         "segment": [name for name, codes in SEGMENT_CODES.items() for _ in codes]},
        schema={"code": "int64", "segment": "string"},
    )
    j = t.left_join(lookup, t.segment_code == lookup.code)
    return j.drop("code")


def _with_names(s: Sources, t: ir.Table) -> ir.Table:
    client = s["client"]
    names = client.select(name_key=client.id, client_name=client.name)
    return t.left_join(names, t.client_id == names.name_key).drop("name_key")


# --- sections -----------------------------------------------------------------------------


def rating_expression(s: Sources, query: ClientsQuery) -> ir.Table:
    t = with_abc(client_facts(s, query.period, query.filters), query.a_share, query.b_cut)
    if query.abc_class is not None:
        t = t.filter(t.abc_class == query.abc_class.value)
    t = t.order_by("rank").limit(query.limit)
    return _with_names(s, t).order_by("rank")


def rfm_expression(s: Sources, query: ClientsQuery) -> ir.Table:
    t = with_rfm(s, paying_clients(s, query.period, query.filters), query.period,
                 query.rfm_bins)
    if query.segment is not None:
        t = with_segment(t)
        t = t.filter(t.segment == query.segment)
    order = [t.revenue_minor.desc(), t.client_id.asc()]
    t = t.order_by(order).limit(query.limit)
    if query.segment is None:  # names only for the rows shown
        t = with_segment(t)
    named = _with_names(s, t)
    return named.order_by([named.revenue_minor.desc(), named.client_id.asc()])


def summary_expression(s: Sources, query: ClientsQuery) -> ir.Table:
    """Clients and revenue per (ABC class, segment, new, paying, repeat) combination.

    At most 3 × 12 × 2 × 2 × 2 rows: every figure of the summary is a sum over them.
    """
    facts = client_facts(s, query.period, query.filters)
    abc = with_abc(facts, query.a_share, query.b_cut)
    rfm = with_segment(with_rfm(s, facts.filter(facts.orders > 0), query.period, SEGMENT_BINS))
    segments = rfm.select(segment_key=rfm.client_id, segment=rfm.segment)
    t = abc.left_join(segments, abc.client_id == segments.segment_key)
    first = MEASURES["new_buyers"].fact(s).within(s, query.period, query.filters,
                                                  any_columns=False)
    t = t.mutate(
        is_new=t.client_id.isin(first.client_id), is_paying=t.orders > 0, is_repeat=t.orders >= 2
    )
    return t.group_by("abc_class", "segment", "is_new", "is_paying", "is_repeat").aggregate(
        clients=t.count().cast("int64"), revenue_minor=t.revenue_minor.sum().cast("int64")
    )


# --- rows ---------------------------------------------------------------------------------


def _money(minor: Any) -> float:
    return (minor or 0) / 100.0


def _money_or_none(minor: Any) -> float | None:
    return None if minor is None else minor / 100.0


def _rating_row(r: dict[str, Any]) -> dict[str, Any]:
    total = r["total_minor"]
    won_to_created = METRICS["lead_to_sale"].value(
        {"won": r["deals_won"], "leads": r["deals_created"]}, 1
    )
    return {
        "rank": r["rank"],
        "client_id": r["client_id"],
        "client_name": r["client_name"],
        "revenue": _money(r["revenue_minor"]),
        "orders": r["orders"],
        "deals_created": r["deals_created"],
        "deals_won": r["deals_won"],
        "max_purchase": _money_or_none(r["largest_order_minor"]),
        "won_to_created_pct": won_to_created,
        "abc_class": r["abc_class"],
        "revenue_share_pct": ratio(r["revenue_minor"], total, 100.0),
        "cumulative_share_pct": ratio(r["cumulative_minor"], total, 100.0),
    }


def _rfm_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "client_id": r["client_id"],
        "client_name": r["client_name"],
        "recency_days": r["recency_days"],
        "frequency": r["orders"],
        "monetary": _money(r["revenue_minor"]),
        "r_score": r["r_score"],
        "f_score": r["f_score"],
        "m_score": r["m_score"],
        "segment": r["segment"],
    }


Cell = dict[str, Any]
Keep = Callable[[Cell], bool]


def summary_rows(cells: list[Cell], days: int) -> list[dict[str, Any]]:
    """Long-form summary: groups ``clients``, ``abc`` and ``rfm`` with counts and shares."""

    def total(keep: Keep) -> tuple[int, int]:
        chosen = [c for c in cells if keep(c)]
        return (
            sum(int(c["clients"]) for c in chosen),
            sum(int(c["revenue_minor"] or 0) for c in chosen),
        )

    rated, revenue = total(lambda c: True)
    paying, _ = total(lambda c: c["is_paying"])

    def row(group: str, name: str, keep: Keep, base: int) -> dict[str, Any]:
        clients, minor = total(keep)
        return {
            "group": group,
            "name": name,
            "clients": clients,
            "revenue": _money(minor),
            "client_share_pct": ratio(clients, base, 100.0),
            "revenue_share_pct": ratio(minor, revenue, 100.0),
        }

    def is_class(name: str) -> Keep:
        return lambda c: c["abc_class"] == name

    def in_segment(name: str) -> Keep:
        return lambda c: c["segment"] == name

    rows = [
        row("clients", "rated", lambda c: True, rated),
        row("clients", "paying", lambda c: c["is_paying"], rated),
        row("clients", "new", lambda c: c["is_paying"] and c["is_new"], paying),
        row("clients", "returning", lambda c: c["is_paying"] and not c["is_new"], paying),
        row("clients", "repeat", lambda c: c["is_repeat"], paying),
    ]
    # the registry's repeat purchase rate: repeat buyers ÷ buyers
    rows[-1]["client_share_pct"] = METRICS["repeat_purchase_rate"].value(
        {"repeat_buyers": rows[-1]["clients"], "buyers": paying}, days
    )
    rows += [row("abc", c.value, is_class(c.value), rated) for c in AbcClass]
    rows += [row("rfm", name, in_segment(name), paying) for name in SEGMENTS]
    return rows


FORMULA = {
    "revenue": "sum of revenue orders' totals paid in the period",
    "orders": "revenue orders paid in the period",
    "deals_created": "deals created in the period",
    "deals_won": "deals won in the period",
    "max_purchase": "largest revenue order total in the period",
    "won_to_created_pct": "deals won ÷ deals created × 100% (the lead→sale metric)",
    "abc_class": "A while the cumulative revenue share starts below a_share, B below "
    "a_share + b_share, else C (clients sorted by revenue desc, then id)",
    "recency_days": "period end − local day of the last revenue order, in days",
    "frequency": "revenue orders in the period",
    "monetary": "revenue in the period",
    "r_score": "1 + ⌊bins × (clients with larger recency) ÷ paying clients⌋",
    "f_score": "1 + ⌊bins × (clients with fewer orders) ÷ paying clients⌋",
    "m_score": "1 + ⌊bins × (clients with less revenue) ÷ paying clients⌋",
    "segment": "R-F-M quintile code looked up in the 11-segment map",
    "new": "paying clients whose first revenue order ever falls in the period",
    "repeat": "client_share_pct = repeat purchase rate: clients with ≥ 2 orders ÷ paying",
}


def run(runner: Runner, query: ClientsQuery) -> Result:
    """Compute one section of the clients report."""
    s = runner.sources
    if query.section is ClientSection.SUMMARY:
        summary = s.memo(("clients", query.model_dump_json()),
                         lambda: summary_expression(s, query))
        rows = summary_rows(runner.rows(summary), query.period.days)
        counts = {"clients": rows[0]["clients"], "paying_clients": rows[1]["clients"]}
    else:
        build, shape = (
            (rating_expression, _rating_row)
            if query.section is ClientSection.RATING
            else (rfm_expression, _rfm_row)
        )
        raw = runner.rows(s.memo(("clients", query.model_dump_json()), lambda: build(s, query)))
        total = "clients_total" if query.section is ClientSection.RATING else "paying_total"
        counts = {"clients": int(raw[0][total]) if raw else 0}
        rows = [shape(r) for r in raw]
    return Result(
        report="clients",
        engine=runner.engine,
        columns=list(rows[0]) if rows else [],
        rows=rows,
        formula=FORMULA,
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts=counts,
        drilldown=_drilldown(s, query.period),
        query=query.model_dump(mode="json"),
    )


def _drilldown(s: Sources, period: Period) -> dict[str, Any]:
    """API lists of the records behind a client's row (the period's bounds in UTC)."""

    def utc(day: date) -> str:
        return (datetime.combine(day, time.min) - s.utc_offset).strftime("%Y-%m-%dT%H:%M:%SZ")

    start, end = utc(period.start), utc(period.end_exclusive)
    return {
        "client": "/api/v1/clients/{client_id}",
        "orders": f"/api/v1/orders?client_id={{client_id}}&paid_from={start}&paid_to={end}",
        "deals": f"/api/v1/deals?client_id={{client_id}}&created_from={start}&created_to={end}",
    }


REPORT = Report(
    name="clients",
    title_en="Clients: rating, ABC, RFM",
    title_ru="Клиенты: рейтинг, ABC, RFM",
    query=ClientsQuery,
    run=run,  # type: ignore[arg-type]
    resources=("order", "deal"),
    lists_clients=lambda query: query.section is not ClientSection.SUMMARY,
)
