"""Orders: the first from each won deal, repeats from BG/NBD and Gamma-Gamma, a few cancelled.

A won deal becomes an order worth the deal's amount a few hours after closing. From that
first order on, the client's repeat orders are a Poisson process of rate ``lambda`` that stops
for good after each repeat order with probability ``p`` (BG/NBD), each worth a Gamma(p, nu)
draw (Gamma-Gamma); ``lambda``, ``p`` and ``nu`` vary by client as the parameters say. A
returning client (more than one lead, see ``leads``) gets such a process from each won deal,
its ``lambda`` multiplied by ``returning_client_order_rate``.
Paid orders go new, confirmed, paid, shipped, delivered; cancelled ones new, cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voronka.demo import ragged
from voronka.demo.basket import Lines, fill_baskets
from voronka.demo.clients import ClientBatch
from voronka.demo.deals import DealBatch
from voronka.demo.rows import VERSION, TableRows, nullable, nullable_text, rows
from voronka.demo.timeline import SECONDS_PER_DAY, days, seconds
from voronka.demo.world import World

PAID_PATH = ("new", "confirmed", "paid", "shipped", "delivered")
CANCELLED_PATH = ("new", "cancelled")
#: Median hours from each status to the next on the paid path, and to cancellation.
PAID_PATH_HOURS = (1.0, 6.0, 24.0, 48.0)
CANCEL_HOURS = 4.0
MIN_ORDER_VALUE = 100


@dataclass(frozen=True)
class OrderBatch:
    """A chunk's orders, sorted by client then time, with their lines and status history."""

    ids: np.ndarray
    client: np.ndarray  # batch index of the client
    deal: np.ndarray  # index of the deal in its batch for first orders, -1 for the others
    created_at: np.ndarray
    is_cancelled: np.ndarray
    status: np.ndarray
    paid_at: np.ndarray
    delivered_at: np.ndarray
    lines: Lines
    history: tuple[np.ndarray, np.ndarray, np.ndarray]  # (order index, status, at)

    def __len__(self) -> int:
        return len(self.ids)


def draw_orders(
    world: World, rng: np.random.Generator, deals: DealBatch, first_id: int
) -> OrderBatch:
    """Draw every order of a chunk's clients up to the end of the window."""
    first = _first_orders(world, rng, deals)
    repeat, nu = _repeat_orders(world, rng, first)
    cancelled = _cancelled_orders(world, rng, first, nu)
    client = np.concatenate([first.client, repeat.client, cancelled.client])
    created = np.concatenate([first.at, repeat.at, cancelled.at])
    value = np.concatenate([first.value, repeat.value, cancelled.value])
    deal = np.concatenate([first.deal, np.full(len(repeat.at) + len(cancelled.at), -1)])
    is_cancelled = np.arange(len(client)) >= len(first.at) + len(repeat.at)
    order = np.lexsort((created, client))
    client, created, value = client[order], created[order], value[order]
    deal, is_cancelled = deal[order], is_cancelled[order]
    history = _status_history(world, rng, created, is_cancelled)
    return _order_batch(
        first_id, client, deal, created, is_cancelled, history, fill_baskets(world, rng, value)
    )


@dataclass(frozen=True)
class _Drawn:
    client: np.ndarray
    at: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class _FirstOrders(_Drawn):
    deal: np.ndarray
    #: Multiplies the BG/NBD purchase rate of the repeat orders that follow.
    rate_multiplier: np.ndarray


def _first_orders(world: World, rng: np.random.Generator, deals: DealBatch) -> _FirstOrders:
    won = np.flatnonzero(deals.is_won)
    at = deals.closed_at[won] + seconds(rng.uniform(3600, 24 * 3600, len(won)))
    keep = at < world.window.end
    won, at = won[keep], at[keep]
    returning = np.bincount(deals.client)[deals.client[won]] > 1
    multiplier = np.where(returning, world.params.returning_client_order_rate, 1.0)
    return _FirstOrders(deals.client[won], at, deals.amount[won], won, multiplier)


def _repeat_orders(
    world: World, rng: np.random.Generator, first: _FirstOrders
) -> tuple[_Drawn, np.ndarray]:
    """BG/NBD repeat orders after each first order, valued by Gamma-Gamma; also each nu."""
    bgnbd, spend = world.params.repeat_purchase, world.params.spend
    n = len(first.at)
    rate = rng.gamma(bgnbd.r, 1 / bgnbd.alpha, n) * first.rate_multiplier  # orders per day
    dropout = rng.beta(bgnbd.a, bgnbd.b, n)
    nu = rng.gamma(spend.q, 1 / spend.v, n)
    age = (world.window.end - first.at).astype("int64") / 1e6 / SECONDS_PER_DAY
    arrivals = rng.poisson(rate * age)
    before_dropout = rng.geometric(dropout)
    parent = ragged.parent_of(arrivals)
    offset = rng.random(len(parent)) * age[parent]
    order = np.lexsort((offset, parent))
    offset = offset[order]
    kept = ragged.position_in_parent(arrivals) < before_dropout[parent]
    parent, offset = parent[kept], offset[kept]
    value = rng.gamma(spend.p, 1 / nu[parent])
    repeat = _Drawn(
        first.client[parent],
        first.at[parent] + days(offset),
        np.maximum(np.round(value), MIN_ORDER_VALUE).astype(np.int64),
    )
    return repeat, nu


def _cancelled_orders(
    world: World, rng: np.random.Generator, first: _Drawn, nu: np.ndarray
) -> _Drawn:
    """A few extra orders that are cancelled before payment (not BG/NBD transactions)."""
    count = rng.poisson(world.params.cancelled_orders_per_client, len(first.at))
    parent = ragged.parent_of(count)
    span = (world.window.end - first.at[parent]).astype("int64") / 1e6
    at = first.at[parent] + seconds(rng.random(len(parent)) * span)
    value = rng.gamma(world.params.spend.p, 1 / nu[parent])
    return _Drawn(
        first.client[parent], at, np.maximum(np.round(value), MIN_ORDER_VALUE).astype(np.int64)
    )


def _status_history(
    world: World, rng: np.random.Generator, created: np.ndarray, is_cancelled: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (order index, status, at) of each status change before the window end."""
    counts = np.where(is_cancelled, len(CANCELLED_PATH), len(PAID_PATH))
    order = ragged.parent_of(counts)
    step = ragged.position_in_parent(counts)
    paid_hours = np.asarray((0.0, *PAID_PATH_HOURS))[step]
    median_hours = np.where(is_cancelled[order], np.where(step > 0, CANCEL_HOURS, 0.0), paid_hours)
    hours = rng.lognormal(0.0, 0.6, len(step)) * median_hours
    at = created[order] + seconds(ragged.cumsum_within(hours, counts) * 3600)
    status = np.where(
        is_cancelled[order],
        np.asarray(CANCELLED_PATH)[np.minimum(step, 1)],
        np.asarray(PAID_PATH)[step],
    )
    kept = at < world.window.end
    return order[kept], status[kept], at[kept]


def _order_batch(
    first_id: int,
    client: np.ndarray,
    deal: np.ndarray,
    created: np.ndarray,
    is_cancelled: np.ndarray,
    history: tuple[np.ndarray, np.ndarray, np.ndarray],
    lines: Lines,
) -> OrderBatch:
    order, status, at = history
    last = ragged.last_child(np.bincount(order, minlength=len(client)))
    paid_at = np.full(len(client), np.datetime64("NaT", "us"))
    paid_at[order[status == "paid"]] = at[status == "paid"]
    delivered_at = np.full(len(client), np.datetime64("NaT", "us"))
    delivered_at[order[status == "delivered"]] = at[status == "delivered"]
    return OrderBatch(
        first_id + np.arange(len(client)),
        client,
        deal,
        created,
        is_cancelled,
        status[last],
        paid_at,
        delivered_at,
        lines,
        history,
    )


def order_rows(world: World, batch: ClientBatch, deals: DealBatch, orders: OrderBatch) -> TableRows:
    """The orders as they stand at the end of the window; totals are the sums of the lines."""
    total, cost = orders.lines.order_totals(len(orders))
    last_change = orders.history[2][
        ragged.last_child(np.bincount(orders.history[0], minlength=len(orders)))
    ]
    return rows(
        "sales_order",
        orders.ids,
        number=np.strings.add("VR-", (100_000 + orders.ids).astype(str)),
        client_id=batch.ids[orders.client],
        deal_id=nullable(deals.ids[np.maximum(orders.deal, 0)], orders.deal >= 0),
        owner_id=world.manager_ids[batch.manager[orders.client]],
        status=orders.status,
        total_minor=total * 100,
        cost_total_minor=cost * 100,
        currency="RUB",
        paid_at=orders.paid_at,
        is_deleted=False,
        created_at=orders.created_at,
        updated_at=last_change,
        version=VERSION,
    )


def line_rows(orders: OrderBatch, first_id: int) -> TableRows:
    lines = orders.lines
    return rows(
        "order_line",
        first_id + np.arange(len(lines.order)),
        order_id=orders.ids[lines.order],
        product_id=lines.product + 1,
        quantity=lines.quantity,
        unit_price_minor=lines.unit_price * 100,
        unit_cost_minor=lines.unit_cost * 100,
    )


def status_change_rows(
    world: World, batch: ClientBatch, orders: OrderBatch, first_id: int
) -> TableRows:
    order, status, at = orders.history
    step = ragged.position_in_parent(np.bincount(order, minlength=len(orders)))
    previous = np.roll(status, 1)
    return rows(
        "order_status_change",
        first_id + np.arange(len(order)),
        order_id=orders.ids[order],
        from_status=nullable_text(previous, step > 0),
        to_status=status,
        changed_at=at,
        changed_by_id=world.manager_ids[batch.manager[orders.client[order]]],
    )


def sold_units(world: World, orders: OrderBatch) -> np.ndarray:
    """Units sold per (product, week of the window) by the orders that were paid."""
    lines = orders.lines
    paid = ~np.isnat(orders.paid_at[lines.order])
    week = (
        (orders.paid_at[lines.order][paid] - world.window.start)
        .astype("timedelta64[D]")
        .astype(np.int64)
    ) // 7
    weeks = world.window.days // 7 + 1
    flat = lines.product[paid] * weeks + week
    sold = np.bincount(flat, weights=lines.quantity[paid], minlength=len(world.products) * weeks)
    return sold.reshape(len(world.products), weeks)
