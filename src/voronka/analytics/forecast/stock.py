"""The ``stock`` report: ABC × XYZ classes, cover days and reorder advice per product.

From the engine: units and revenue per product per whole local bucket of the period (revenue
order lines), and the latest ``stock_level`` snapshot per product and warehouse (on or before
the period's end), summed over warehouses. In Python, per product:

* ABC by revenue, the rule of the clients report: products by revenue (descending, then id);
  A while the cumulative share *starts* below ``a_share``, B below ``a_share + b_share``,
  else C;
* XYZ by the coefficient of variation of demand per bucket (empty buckets count as 0):
  CV = σ ÷ μ (population σ); X when CV ≤ ``x_cv``, Y when CV ≤ ``y_cv``, else Z (Z also when
  nothing was sold);
* daily demand μ_d = units ÷ days of the whole buckets; σ_d = σ_bucket ÷ √(bucket days)
  (days assumed independent);
* cover days = on hand ÷ μ_d;
* periodic review (R, S) policy with lead time L and review period R: safety stock
  z·σ_d·√(L + R), order-up-to level S = μ_d·(L + R) + safety stock, reorder point
  μ_d·L + z·σ_d·√L, suggested order ⌈S − on hand⌉ (at least 0), z = Φ⁻¹(service level).

References
----------
Silver, E. A., Pyke, D. F., Thomas, D. J. (2017). *Inventory and Production Management in
Supply Chains*, 4th ed. CRC Press (§6.7 periodic review, order-up-to level; safety stock for
a cycle service level).
Scholz-Reiter, B., Heger, J., Meinecke, C., Bergmann, J. (2012). Integration of demand
forecasts in ABC-XYZ analysis. *International Journal of Productivity and Performance
Management* 61(4), 445–451.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import Field, field_validator, model_validator
from scipy import stats

from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.forecast.sales import SEASON, series_of, whole_buckets
from voronka.analytics.query import Filters, Grain, Period, Strict
from voronka.analytics.reports.dynamics import calendar
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput


class StockQuery(Strict):
    period: Period = Field(description="Demand history; stock as of its last day.")
    filters: Filters = Filters()
    grain: Grain = Grain.WEEK
    a_share: float = Field(0.8, gt=0, le=1)
    b_share: float = Field(0.15, ge=0, le=1)
    x_cv: float = Field(0.5, ge=0, description="Largest CV of class X.")
    y_cv: float = Field(1.0, ge=0, description="Largest CV of class Y.")
    lead_time_days: float = Field(14, ge=0, le=3650)
    review_days: float = Field(7, ge=0, le=3650)
    service_level: float = Field(0.95, gt=0, lt=1)
    limit: int = Field(1000, ge=1, le=100_000)

    @field_validator("grain")
    @classmethod
    def _grain(cls, grain: Grain) -> Grain:
        if grain not in SEASON:
            raise ValueError("demand is counted by day, week or month")
        return grain

    @model_validator(mode="after")
    def _consistent(self) -> StockQuery:
        if self.a_share + self.b_share > 1 + 1e-9:
            raise ValueError("a_share + b_share must not exceed 1")
        if self.y_cv < self.x_cv:
            raise ValueError("y_cv must not be below x_cv")
        return self


def demand(s: Sources, query: StockQuery) -> ir.Table:
    """``(bucket, key=product, value=units, revenue)`` per local bucket."""
    rows = facts.Fact("order lines", facts.order_lines(s), "paid_at").within(
        s, query.period, query.filters)
    when = s.local(rows.paid_at)
    bucket = when.cast("date") if query.grain is Grain.DAY else \
        when.truncate({Grain.WEEK: "W", Grain.MONTH: "M"}[query.grain]).cast("date")
    rows = rows.mutate(bucket=bucket, key=rows.product_id.cast("int64"))
    return rows.group_by("bucket", "key").aggregate(
        value=rows.quantity.sum().cast("float64"),
        revenue=(rows.line_minor.sum() / 100.0).cast("float64"))


def latest_stock(s: Sources, query: StockQuery) -> ir.Table:
    """Per product: units on hand summed over warehouses at each one's latest snapshot."""
    t = s["stock_level"]
    t = t.filter(t.as_of <= ibis.date(query.period.end))
    t = t.mutate(newest=t.as_of.max().over(group_by=[t.product_id, t.warehouse]))
    t = t.filter(t.as_of == t.newest)
    return t.group_by("product_id").aggregate(on_hand=t.quantity.sum().cast("int64"),
                                              as_of=t.as_of.max())


def products(s: Sources) -> ir.Table:
    p, g = s["product"], s["product_group"]
    names = g.select(group_key=g.id, product_group=g.name)
    j = p.left_join(names, p.group_id == names.group_key)
    return j.select(product_id=j.id, sku=j.sku, product=j.name, product_group=j.product_group)


def abc_classes(revenue: dict[int, float], a_cut: float, b_cut: float) -> dict[int, str]:
    """ABC by where each product's cumulative revenue share starts (see the module docstring)."""
    total = sum(revenue.values())
    out, before = {}, 0.0
    for key in sorted(revenue, key=lambda k: (-revenue[k], k)):
        start = before / total if total > 0 else 1.0
        out[key] = "A" if start < a_cut else "B" if start < b_cut else "C"
        before += revenue[key]
    return out


def xyz_class(cv: float | None, x_cv: float, y_cv: float) -> str:
    if cv is None:
        return "Z"
    return "X" if cv <= x_cv else "Y" if cv <= y_cv else "Z"


def advice(units: np.ndarray, bucket_days: int, on_hand: int | None,
           query: StockQuery) -> dict[str, Any]:
    """Demand statistics, cover days and the (R, S) reorder suggestion for one product."""
    mean, sigma = float(np.mean(units)), float(np.std(units))
    cv = sigma / mean if mean > 0 else None
    daily, daily_sigma = mean / bucket_days, sigma / math.sqrt(bucket_days)
    z = float(stats.norm.ppf(query.service_level))
    lead, cycle = query.lead_time_days, query.lead_time_days + query.review_days
    safety = z * daily_sigma * math.sqrt(cycle)
    order_up_to = daily * cycle + safety
    row: dict[str, Any] = {
        "units": float(np.sum(units)), "mean_per_bucket": mean, "cv": cv,
        "daily_demand": daily, "on_hand": on_hand,
        "cover_days": (on_hand / daily if daily > 0 else None) if on_hand is not None else None,
        "safety_stock": safety,
        "reorder_point": daily * lead + z * daily_sigma * math.sqrt(lead),
        "order_up_to": order_up_to,
        "suggested_order": (max(0, math.ceil(order_up_to - on_hand - 1e-9))
                            if on_hand is not None else None),
    }
    row["reorder_now"] = on_hand is not None and on_hand <= row["reorder_point"]
    return row


def _day(value: Any) -> Any:
    """A date (engines return a DATE column as a date or as a midnight timestamp)."""
    return value.date() if isinstance(value, datetime) else value


FORMULA = {
    "abc": "A/B/C by where the product's cumulative revenue share starts",
    "xyz": "X if CV ≤ x_cv, Y if CV ≤ y_cv, else Z; CV = σ ÷ μ of units per bucket",
    "daily_demand": "units ÷ days of the whole buckets",
    "cover_days": "on hand (latest snapshot per warehouse, summed) ÷ daily demand",
    "safety_stock": "z × σ_daily × √(lead time + review period)",
    "reorder_point": "daily demand × lead time + z × σ_daily × √lead time",
    "order_up_to": "daily demand × (lead time + review period) + safety stock",
    "suggested_order": "⌈order_up_to − on hand⌉, at least 0",
}


def run(runner: Runner, query: StockQuery) -> Result:
    """Classify products and advise on reorders."""
    s = runner.sources
    buckets = whole_buckets(query.period, query.grain)
    if not buckets:
        message = f"the period holds no whole {query.grain.value}: demand cannot be measured"
        raise InvalidInput(message, [ErrorDetail(message, field="period")])
    raw = runner.rows(demand(s, query))
    series = series_of(raw, buckets)
    revenue: dict[int, float] = {}
    for r in raw:
        revenue[r["key"]] = revenue.get(r["key"], 0.0) + (r["revenue"] or 0.0)
    stock = {r["product_id"]: r for r in runner.rows(latest_stock(s, query))}
    catalogue = {r["product_id"]: r for r in runner.rows(products(s))}
    keys = sorted(set(series) | set(stock))
    abc = abc_classes({k: revenue.get(k, 0.0) for k in keys}, query.a_share,
                      round(query.a_share + query.b_share, 9))
    days = next((b.days for b in calendar(query.period, query.grain) if not b.partial), 1)
    rows = []
    for key in sorted(keys, key=lambda k: (-revenue.get(k, 0.0), k)):
        units = series.get(key, np.zeros(len(buckets)))
        held = stock.get(key)
        item = advice(units, days, held["on_hand"] if held else None, query)
        info = catalogue.get(key, {})
        rows.append({"product_id": key, "sku": info.get("sku"), "product": info.get("product"),
                     "product_group": info.get("product_group"),
                     "revenue": revenue.get(key, 0.0), "abc": abc[key],
                     "xyz": xyz_class(item["cv"], query.x_cv, query.y_cv),
                     "stock_as_of": _day(held["as_of"]) if held else None, **item})
    return Result(report="stock", engine=runner.engine, columns=list(rows[0]) if rows else [],
                  rows=rows[: query.limit], formula=FORMULA, sql=runner.sql,
                  seconds=runner.seconds,
                  row_counts={"products": len(rows), "buckets": len(buckets),
                              "with_stock": len(stock)},
                  query=query.model_dump(mode="json"))


REPORT = Report(
    name="stock",
    title_en="Stock: ABC-XYZ, cover days, reorder advice",
    title_ru="Запасы: ABC-XYZ, дни покрытия, рекомендации по заказу",
    query=StockQuery,
    run=run,  # type: ignore[arg-type]
    resources=("order",),
)
