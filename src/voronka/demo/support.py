"""After the sale: support tickets, CSAT and NPS answers, and service calls from buyers."""

from __future__ import annotations

import numpy as np

from voronka.demo import names
from voronka.demo.activities import Part
from voronka.demo.calls import inbound_calls
from voronka.demo.clients import ClientBatch
from voronka.demo.orders import OrderBatch
from voronka.demo.rows import VERSION, TableRows, nullable, pick, rows, when
from voronka.demo.timeline import at_local_time, days, seconds
from voronka.demo.world import World

#: Mean days from delivery to a ticket, median hours to resolve one, and the priorities.
TICKET_DELAY_DAYS = 5.0
RESOLVE_HOURS_MEDIAN = 20.0
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_SHARES = (0.2, 0.6, 0.15, 0.05)


def ticket_rows(
    world: World, rng: np.random.Generator, batch: ClientBatch, orders: OrderBatch, first_id: int
) -> tuple[TableRows, np.ndarray]:
    """Tickets about delivered orders; returns the rows and each ticket's resolution time."""
    delivered = np.flatnonzero(~np.isnat(orders.delivered_at))
    order = delivered[rng.random(len(delivered)) < world.params.ticket_rate_per_order]
    created = orders.delivered_at[order] + days(rng.exponential(TICKET_DELAY_DAYS, len(order)))
    keep = created < world.window.end
    order, created = order[keep], created[keep]
    resolved = created + seconds(
        rng.lognormal(np.log(RESOLVE_HOURS_MEDIAN), 1.0, len(order)) * 3600
    )
    is_resolved = resolved < world.window.end
    closed = is_resolved & (rng.random(len(order)) < 0.7)
    status = np.where(
        closed,
        "closed",
        np.where(
            is_resolved, "resolved", np.where(rng.random(len(order)) < 0.5, "open", "pending")
        ),
    )
    resolved_at = when(resolved, is_resolved)
    client = orders.client[order]
    table = rows(
        "ticket",
        first_id + np.arange(len(order)),
        client_id=batch.ids[client],
        order_id=orders.ids[order],
        owner_id=world.manager_ids[batch.manager[client]],
        subject=pick(
            names.TICKET_SUBJECTS, rng.integers(0, len(names.TICKET_SUBJECTS), len(order))
        ),
        body=None,
        status=status,
        priority=pick(PRIORITIES, rng.choice(len(PRIORITIES), len(order), p=PRIORITY_SHARES)),
        resolved_at=resolved_at,
        is_deleted=False,
        created_at=created,
        updated_at=np.fmax(created, resolved_at),
        version=VERSION,
    )
    return table, resolved_at


def feedback_rows(
    world: World,
    rng: np.random.Generator,
    batch: ClientBatch,
    orders: OrderBatch,
    tickets: TableRows,
    resolved_at: np.ndarray,
    first_id: int,
) -> TableRows:
    """CSAT after resolved tickets and NPS after delivered orders, by the planted rates."""
    params = world.params
    answered = ~np.isnat(resolved_at) & (rng.random(len(resolved_at)) < params.csat_response_rate)
    csat_at = resolved_at[answered] + days(rng.uniform(0, 2, int(answered.sum())))
    delivered = np.flatnonzero(~np.isnat(orders.delivered_at))
    nps_order = delivered[rng.random(len(delivered)) < params.nps_response_rate]
    nps_at = orders.delivered_at[nps_order] + days(rng.uniform(1, 7, len(nps_order)))
    csat_score = 1 + rng.choice(5, len(csat_at), p=params.csat_distribution)
    nps_score = rng.choice(11, len(nps_at), p=params.nps_distribution)
    is_csat = np.arange(len(csat_at) + len(nps_at)) < len(csat_at)
    at = np.concatenate([csat_at, nps_at])
    keep = at < world.window.end
    client = np.concatenate(
        [tickets.columns["client_id"][answered], batch.ids[orders.client[nps_order]]]
    )
    order_id = np.concatenate([tickets.columns["order_id"][answered], orders.ids[nps_order]])
    ticket_id = np.concatenate([tickets.columns["id"][answered], np.zeros(len(nps_at), int)])
    return rows(
        "feedback",
        first_id + np.arange(int(keep.sum())),
        client_id=client[keep],
        order_id=order_id[keep],
        ticket_id=nullable(ticket_id, is_csat)[keep],
        kind=np.where(is_csat, "csat", "nps")[keep],
        score=np.concatenate([csat_score, nps_score])[keep],
        comment=None,
        created_at=at[keep],
        updated_at=at[keep],
    )


def service_calls(
    world: World, rng: np.random.Generator, batch: ClientBatch, orders: OrderBatch
) -> Part:
    """Inbound calls from buyers after their first order, in the weekly and daily rhythm."""
    first = np.flatnonzero(orders.deal >= 0)
    count = rng.poisson(world.params.service_calls_per_paying_client, len(first))
    order = np.repeat(first, count)
    client = orders.client[order]
    window = world.window
    since = (
        (orders.created_at[order] + window.utc_offset).astype("datetime64[D]") - window.first_day
    ).astype(np.int64)
    weeks_left = np.maximum((window.days - since) // 7, 1)
    week_start = since - (since + window.first_weekday) % 7 + 7 * rng.integers(0, weeks_left)
    weekday_p = np.asarray(world.params.weekday_multipliers)
    day_of_week = rng.choice(7, len(order), p=weekday_p / weekday_p.sum())
    at = at_local_time(window, rng, window.local_day(week_start + day_of_week), world.hour_p)
    keep = (at > orders.created_at[order]) & (at < window.end)
    client = client[keep]
    number = world.tracking_number(batch.channel[client], np.full(len(client), -1))
    call = inbound_calls(world, rng, at[keep], batch.phone[client], number)
    return {
        **call,
        "client_id": batch.ids[client],
        "owner_id": world.manager_ids[batch.manager[client]],
    }
