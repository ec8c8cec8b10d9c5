"""Behaviour of each paying client, built by the engine: the features segments cluster on.

One row per client with a revenue order paid by the end of ``as_of`` (local day):
``recency_days`` (as_of − last order day), ``orders``, ``revenue_minor``, ``tenure_days``
(as_of − first order day), ``channel_key`` (the first revenue order's channel: the deal's,
else the client's source) and one ``group_<id>_minor`` column per product group (revenue of
the client's order lines in that group).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from voronka.analytics import facts
from voronka.analytics.facts import midnight
from voronka.analytics.sources import Sources


def group_column(group_id: int) -> str:
    return f"group_{group_id}_minor"


def _days_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.IntegerValue:
    return ((later.epoch_seconds() - earlier.epoch_seconds()) / 86400).round().cast("int64")


def client_features(s: Sources, as_of: date, group_ids: list[int]) -> ir.Table:
    """The feature table (see the module docstring), one row per paying client."""
    until = midnight(as_of + timedelta(days=1))
    orders = facts.orders(s)
    orders = orders.mutate(day=s.local(orders.paid_at).truncate("D"))
    orders = orders.filter(orders.day < until)
    ranked = orders.mutate(first_rank=ibis.row_number().over(
        group_by=orders.client_id, order_by=[orders.paid_at, orders.id]))
    first = ranked.filter(ranked.first_rank == 0).select(
        first_client=ranked.client_id, channel_key=ranked.dim_channel.cast("int64"))
    per_client = orders.group_by("client_id").aggregate(
        orders=orders.count().cast("int64"),
        revenue_minor=orders.total_minor.sum().cast("int64"),
        first_day=orders.day.min(),
        last_day=orders.day.max(),
    )
    end = midnight(as_of)
    t = per_client.select(
        "client_id", "orders", "revenue_minor",
        recency_days=_days_between(end, per_client.last_day),
        tenure_days=_days_between(end, per_client.first_day),
    )
    t = t.left_join(first, t.client_id == first.first_client).drop("first_client")
    if group_ids:
        categories = _categories(s, until, group_ids)
        t = t.left_join(categories, t.client_id == categories.category_client)
        t = t.drop("category_client")
        t = t.mutate(**{group_column(g): ibis.coalesce(t[group_column(g)], 0)
                        for g in group_ids})
    return t


def _categories(s: Sources, until: ir.TimestampScalar, group_ids: list[int]) -> ir.Table:
    lines = facts.order_lines(s)
    lines = lines.filter(s.local(lines.paid_at) < until)
    return lines.group_by(category_client=lines.client_id).aggregate(**{
        group_column(g): lines.line_minor.sum(where=lines.dim_product_group == g).cast("int64")
        for g in group_ids
    })
