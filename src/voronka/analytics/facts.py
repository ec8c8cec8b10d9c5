"""Fact tables with their dimension columns, built once from the sources.

Each fact has the columns the measures aggregate plus one column per breakdown it supports
(``dim_channel``, ``dim_campaign``, ``dim_manager``, ``dim_pipeline``, ``dim_product_group``).
Soft-deleted deals and orders are not facts; cancelled and returned orders bring no revenue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import ibis
import ibis.expr.types as ir

from voronka.analytics import derived
from voronka.analytics.query import Breakdown, Filters, Period
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput

DIM = {b: f"dim_{b.value}" for b in Breakdown}


@dataclass(frozen=True)
class Fact:
    """A table of facts, the column that places each in time, and its dimensions."""

    name: str
    table: ir.Table
    at: str  # timestamp (UTC) or date column
    is_date: bool = False
    #: The same facts without their dimension joins, for figures that need no breakdown
    #: and no filter on a dimension (engines cannot drop an unused LEFT JOIN themselves).
    undimensioned: ir.Table | None = None

    @property
    def dimensions(self) -> frozenset[Breakdown]:
        return frozenset(b for b, col in DIM.items() if col in self.table.columns)

    def within(self, sources: Sources, period: Period, filters: Filters, *,
               breakdown: Breakdown | None = None, any_columns: bool = True) -> ir.Table:
        """Facts in ``period`` (company local days) matching ``filters``.

        With ``any_columns=False`` the caller reads only the fact's own columns (and the
        ``breakdown`` dimension, if any), so the dimension joins are left out when the
        unjoined facts carry every dimension the breakdown and filters need.
        """
        needed = {DIM[d] for d in filters.by_dimension()} | ({DIM[breakdown]} if breakdown else set())
        plain = (not any_columns and self.undimensioned is not None
                 and needed <= set(self.undimensioned.columns))
        t = self.undimensioned if plain and self.undimensioned is not None else self.table
        if self.is_date:
            t = t.filter(t[self.at] >= ibis.date(period.start), t[self.at] <= ibis.date(period.end))
        else:
            # Bounds moved to UTC rather than the column shifted to local time, so the engines
            # can use column statistics (Parquet row groups, indexes) to skip data.
            start = datetime.combine(period.start, time.min) - sources.utc_offset
            end = datetime.combine(period.end_exclusive, time.min) - sources.utc_offset
            t = t.filter(t[self.at] >= ibis.timestamp(start), t[self.at] < ibis.timestamp(end))
        for dimension, ids in filters.by_dimension().items():
            if dimension not in self.dimensions:
                raise InvalidInput(
                    f"{self.name} cannot be filtered by {dimension.value}",
                    [ErrorDetail("not available for this figure",
                                 field=f"filters.{dimension.value}_ids")])
            t = t.filter(t[DIM[dimension]].isin(list(ids)))
        return t


def midnight(day: date) -> ir.TimestampScalar:
    """Local midnight starting ``day``, as a timestamp literal."""
    return ibis.timestamp(datetime.combine(day, time.min))


def deals(s: Sources) -> ir.Table:
    d = s["deal"]
    d = d.filter(~d.is_deleted)
    return d.mutate(dim_channel=d.channel_id, dim_campaign=d.campaign_id,
                    dim_manager=d.owner_id, dim_pipeline=d.pipeline_id)


def revenue_orders(s: Sources) -> ir.Table:
    """Paid orders that bring revenue, without dimensions (nothing joined).

    Where ``revenue_order`` is kept (the snapshot engines) it holds exactly these rows,
    already filtered and in payment order, so a period skips whole row groups; on
    PostgreSQL it is a view with joins, and the orders are filtered in place.
    """
    if "revenue_order" in s.kept:
        return s["revenue_order"].select(*s["sales_order"].columns)
    return derived.revenue_rows(s["sales_order"])


def orders(s: Sources) -> ir.Table:
    """Revenue orders with their attribution (``dim_channel``, ``dim_campaign``,
    ``dim_manager``, ``dim_pipeline``): kept in the snapshot as ``derived.revenue_order``
    (a view on PostgreSQL in place), since joining every order to its deal and client was
    most of what the revenue figures cost."""
    return s["revenue_order"]


def order_lines(s: Sources) -> ir.Table:
    """Lines of revenue orders, with the product group as a dimension."""
    o = orders(s)
    lines, products = s["order_line"], s["product"]
    paid = o.select("paid_at", "client_id", "dim_channel", "dim_campaign", "dim_manager",
                    "dim_pipeline", order_key=o.id)
    j = lines.join(paid, lines.order_id == paid.order_key)
    groups = products.select(product_key=products.id, group_id=products.group_id)
    j = j.left_join(groups, j.product_id == groups.product_key)
    return j.mutate(dim_product_group=j.group_id,
                    line_minor=j.quantity * j.unit_price_minor,
                    line_cost_minor=j.quantity * j.unit_cost_minor)


def spend(s: Sources) -> ir.Table:
    a, campaign = s["ad_spend"], s["campaign"]
    channels = campaign.select(campaign_key=campaign.id, channel_of=campaign.channel_id)
    j = a.join(channels, a.campaign_id == channels.campaign_key)
    return j.mutate(dim_channel=j.channel_of, dim_campaign=j.campaign_id)


def visits(s: Sources) -> ir.Table:
    t = s["touchpoint"]
    t = t.filter(t.kind == "visit")
    return t.mutate(dim_channel=t.channel_id, dim_campaign=t.campaign_id)


def calls(s: Sources, between: tuple[datetime, datetime] | None = None) -> ir.Table:
    """Calls with the manager and, through the dialled tracking number, the campaign.

    ``between`` (naive UTC, both included) restricts the calls before the join, where the
    engines can use it to skip data.
    """
    a, numbers = managed_calls(s), s["tracking_number"]
    if between is not None:
        a = a.filter(a.occurred_at >= ibis.timestamp(between[0]),
                     a.occurred_at <= ibis.timestamp(between[1]))
    tracked = numbers.select(number_key=numbers.number, number_channel=numbers.channel_id,
                             number_campaign=numbers.campaign_id)
    j = a.left_join(tracked, a.tracking_number == tracked.number_key)
    return j.mutate(dim_channel=j.number_channel, dim_campaign=j.number_campaign)


def managed_calls(s: Sources) -> ir.Table:
    """Calls with their manager only (no join): enough for figures per manager."""
    a = s["activity"]
    a = a.filter(a.kind == "call", ~a.is_deleted)
    return a.mutate(dim_manager=a.owner_id)


def feedback(s: Sources) -> ir.Table:
    f, c = s["feedback"], s["client"]
    owners = c.select(client_key=c.id, client_owner=c.owner_id)
    j = f.left_join(owners, f.client_id == owners.client_key)
    return j.mutate(dim_manager=j.client_owner)
