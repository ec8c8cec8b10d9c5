"""Journeys from CRM data as ibis expressions: touches, conversions and what the models need.

* **Touches** are touchpoints (ad clicks, visits, forms, e-mail clicks, calls, offline
  touches), matched to a client through ``client_id`` or a visitor id known for exactly one
  client, plus inbound calls to a tracking number (its channel and campaign). A call
  touchpoint of the same client within ``SAME_CALL_SECONDS`` of such a call is the same
  call and counted once. A touch's channel is its own, else its campaign's.
* **Conversions** are won deals (closed in the period, worth their amount) or revenue orders
  paid in the period (worth their total). A conversion's journey is the client's touches from
  ``lookback_days`` before it up to it, after the client's previous conversion.
* **Non-converting journeys** are those of clients touched in the period without a conversion
  in it: their touches in the ``lookback_days`` up to their last touch in the period.

The engine computes the rule-based credits, the Shapley credits (Zhao et al.'s closed form) and
the Markov chain's transition counts; Python only solves the chain from those aggregates.
"""

from __future__ import annotations

import math
from datetime import datetime, time
from enum import StrEnum

import ibis
import ibis.expr.types as ir

from voronka.analytics import facts
from voronka.analytics.query import Period
from voronka.analytics.reports.journey import people_touchpoints
from voronka.analytics.sources import Sources

DAY_SECONDS = 86400
SAME_CALL_SECONDS = 600
DIRECT_KIND = "direct"
NO_KEY = 0  # the token part of a touch without channel or campaign


class Basis(StrEnum):
    WON_DEALS = "won_deals"
    PAID_ORDERS = "paid_orders"


class Level(StrEnum):
    CHANNEL = "channel"
    CAMPAIGN = "campaign"


def _utc_bounds(s: Sources, period: Period) -> tuple[ir.TimestampScalar, ir.TimestampScalar]:
    start = datetime.combine(period.start, time.min) - s.utc_offset
    end = datetime.combine(period.end_exclusive, time.min) - s.utc_offset
    return ibis.timestamp(start), ibis.timestamp(end)


def _tracked_calls(s: Sources) -> ir.Table:
    """Inbound calls of known clients to a tracking number with a channel or campaign."""
    calls = facts.calls(s)
    calls = calls.filter(calls.direction == "inbound", calls.client_id.notnull(),
                         calls.dim_channel.notnull() | calls.dim_campaign.notnull())
    return calls.select(touch_id=calls.id, person=calls.client_id, at=calls.occurred_at,
                        channel_id=calls.dim_channel, campaign_id=calls.dim_campaign,
                        origin=ibis.literal(1))


def touches(s: Sources, level: Level) -> ir.Table:
    """Every touch of a known person: ``person, at, origin, touch_id, channel_id,
    campaign_id, is_direct, token`` (the state name at ``level``)."""
    t = people_touchpoints(s)
    t = t.filter(t.person.notnull())
    own = t.select(touch_id=t.id, person=t.person, at=t.occurred_at, channel_id=t.channel_id,
                   campaign_id=t.campaign_id, origin=ibis.literal(0))
    calls = _tracked_calls(s)
    call_touches = t.filter(t.kind == "call")
    twin = calls.join(call_touches, (calls.person == call_touches.person)
                      & ((calls.at.epoch_seconds() - call_touches.occurred_at.epoch_seconds())
                         .abs() <= SAME_CALL_SECONDS))
    calls = calls.filter(~calls.touch_id.isin(twin.select(twin_id=twin.touch_id).twin_id))
    both = ibis.union(own, calls)
    campaign, channel = s["campaign"], s["channel"]
    owners = campaign.select(campaign_key=campaign.id, campaign_channel=campaign.channel_id)
    j = both.left_join(owners, both.campaign_id == owners.campaign_key)
    j = j.mutate(channel_id=ibis.coalesce(j.channel_id, j.campaign_channel))
    kinds = channel.select(channel_key=channel.id, channel_kind=channel.kind)
    j = j.left_join(kinds, j.channel_id == kinds.channel_key)
    channel_part = ibis.coalesce(j.channel_id, NO_KEY).cast("string")
    token = channel_part if level is Level.CHANNEL else (
        channel_part + ":" + ibis.coalesce(j.campaign_id, NO_KEY).cast("string"))
    return j.select(
        "person", "at", "origin", "touch_id", "channel_id", "campaign_id",
        is_direct=j.channel_id.isnull() | (j.channel_kind == DIRECT_KIND), token=token,
    )


def conversions(s: Sources, period: Period, basis: Basis) -> ir.Table:
    """``conversion_id, person, converted_at, value_minor, previous_at`` in the period."""
    if basis is Basis.WON_DEALS:
        d = facts.deals(s)
        d = d.filter(d.status == "won", d.closed_at.notnull(), d.client_id.notnull())
        every = d.select(conversion_id=d.id, person=d.client_id, converted_at=d.closed_at,
                         value_minor=d.amount_minor)
    else:
        o = facts.orders(s)
        every = o.select(conversion_id=o.id, person=o.client_id, converted_at=o.paid_at,
                         value_minor=o.total_minor)
    every = every.mutate(previous_at=every.converted_at.lag().over(
        group_by=every.person, order_by=[every.converted_at, every.conversion_id]))
    start, end = _utc_bounds(s, period)
    return every.filter(every.converted_at >= start, every.converted_at < end)


def _ordered(t: ir.Table, journey: str) -> ir.Table:
    """Touches numbered within their journey: ``step`` from 0 and ``steps`` in all."""
    order = [t.at, t.origin, t.touch_id]
    return t.mutate(step=ibis.row_number().over(group_by=t[journey], order_by=order),
                    steps=t.count().over(group_by=t[journey]))


def converting_touches(s: Sources, period: Period, basis: Basis, level: Level,
                       lookback_days: int) -> ir.Table:
    """Touches of each conversion's journey with ``age_days`` before it, numbered."""
    c, t = conversions(s, period, basis), touches(s, level)
    j = t.join(c, t.person == c.person)
    age = j.converted_at.epoch_seconds() - j.at.epoch_seconds()
    j = j.filter(age >= 0, age <= lookback_days * DAY_SECONDS,
                 j.previous_at.isnull() | (j.at > j.previous_at))
    j = j.mutate(age_days=(j.converted_at.epoch_seconds() - j.at.epoch_seconds())
                 .cast("float64") / DAY_SECONDS)
    return _ordered(j, "conversion_id")


def null_touches(s: Sources, period: Period, basis: Basis, level: Level,
                 lookback_days: int) -> ir.Table:
    """Touches of journeys without a conversion, numbered, ``journey`` = the person."""
    t, c = touches(s, level), conversions(s, period, basis)
    start, end = _utc_bounds(s, period)
    inside = t.filter(t.at >= start, t.at < end, ~t.person.isin(c.person))
    last = inside.group_by(last_person=inside.person).aggregate(last_at=inside.at.max())
    j = t.join(last, t.person == last.last_person)
    age = j.last_at.epoch_seconds() - j.at.epoch_seconds()
    j = j.filter(age >= 0, age <= lookback_days * DAY_SECONDS)
    return _ordered(j.mutate(journey=j.person), "journey")


def _decay(age_days: ir.FloatingValue, half_life_days: float) -> ir.FloatingValue:
    return (-age_days * (math.log(2) / half_life_days)).exp()


def rule_credits(touched: ir.Table, level: Level, *, first: float, last: float,
                 half_life_days: float) -> ir.Table:
    """Per key and rule-based model: credited ``conversions`` and ``value_minor``."""
    t = touched
    per = ibis.window(group_by=t.conversion_id)
    latest_non_direct = t.is_direct.ifelse(ibis.null("int64"), t.step).max().over(per)
    target = ibis.coalesce(latest_non_direct, t.steps - 1)
    decay = _decay(t.age_days, half_life_days)
    middle = (1.0 - first - last) / ibis.greatest(t.steps - 2, 1).cast("float64")
    ends = first + last if first + last > 0 else 1.0
    is_first, is_last = t.step == 0, t.step == t.steps - 1
    position = ibis.cases(
        (t.steps == 1, 1.0),
        (t.steps == 2, is_first.ifelse(first / ends, last / ends)),
        (is_first, first), (is_last, last), else_=middle)
    weights = {
        "first_touch": is_first.ifelse(1.0, 0.0),
        "last_touch": is_last.ifelse(1.0, 0.0),
        "last_non_direct": (t.step == target).ifelse(1.0, 0.0),
        "linear": 1.0 / t.steps.cast("float64"),
        "position_based": position,
        "time_decay": decay / decay.sum().over(per),
    }
    w = t.mutate(**{f"w_{name}": weight for name, weight in weights.items()})
    keys = _keys(w, level)
    parts = [
        w.group_by(**keys).aggregate(
            conversions=w[f"w_{name}"].sum(),
            value_minor=(w[f"w_{name}"] * w.value_minor.cast("float64")).sum(),
        ).mutate(model=ibis.literal(name))
        for name in weights
    ]
    return ibis.union(*parts, _shapley_credits(touched, level))


def _keys(t: ir.Table, level: Level) -> dict[str, ir.Value]:
    campaign = t.campaign_id if level is Level.CAMPAIGN else ibis.null("int64")
    return {"token": t.token, "key_channel": t.channel_id.cast("int64"),
            "key_campaign": campaign.cast("int64")}


def _shapley_credits(touched: ir.Table, level: Level) -> ir.Table:
    """Shapley values of the coalition game whose worth is what journeys using only the
    coalition's channels produced: each journey's conversion and value shared equally by
    its distinct channels (Zhao et al. 2018, which proves this equals the exact sum)."""
    t = touched
    distinct = t.group_by("conversion_id", **_keys(t, level)).aggregate(
        value_minor=t.value_minor.max())
    sizes = distinct.group_by(size_of=distinct.conversion_id).aggregate(
        size=distinct.count())
    j = distinct.join(sizes, distinct.conversion_id == sizes.size_of)
    share = 1.0 / j.size.cast("float64")
    return j.group_by("token", "key_channel", "key_campaign").aggregate(
        conversions=share.sum(), value_minor=(share * j.value_minor.cast("float64")).sum(),
    ).mutate(model=ibis.literal("shapley"))


def _states(t: ir.Table, journey: str, order: int) -> ir.Table:
    """Each touch's Markov state (its last ``order`` tokens joined by '>') and the previous
    touch's state (``(start)`` for the first)."""
    window = ibis.window(group_by=t[journey], order_by=[t.step])
    state = t.token
    for lag in range(1, order):
        state = ibis.coalesce(t.token.lag(lag).over(window) + ">", "") + state
    t = t.mutate(state=state)
    return t.mutate(previous=ibis.coalesce(t.state.lag().over(window), "(start)"))


def transition_counts(converting: ir.Table, nulls: ir.Table, order: int) -> ir.Table:
    """``source, target, moves, conversions, value_minor, nulls`` of the chain of ``order``.

    Rows with ``target`` set count moves between states; rows with ``target`` NULL count
    journeys ending in ``source`` (converting, with their value, or not).
    """
    c = _states(converting, "conversion_id", order).mutate(
        converted=ibis.literal(1), value=converting.value_minor.cast("float64"))
    n = _states(nulls, "journey", order).mutate(
        converted=ibis.literal(0), value=ibis.literal(0.0))
    columns = ("previous", "state", "step", "steps", "converted", "value")
    both = ibis.union(c.select(*columns), n.select(*columns))
    moves = both.group_by(source=both.previous, target=both.state).aggregate(
        moves=both.count().cast("float64"), conversions=ibis.literal(0.0),
        value_minor=ibis.literal(0.0), nulls=ibis.literal(0.0))
    ends = both.filter(both.step == both.steps - 1)
    ended = ends.group_by(source=ends.state).aggregate(
        target=ibis.null("string"), moves=ibis.literal(0.0),
        conversions=ends.converted.sum().cast("float64"),
        value_minor=(ends.converted.cast("float64") * ends.value).sum(),
        nulls=(1 - ends.converted).sum().cast("float64"))
    return ibis.union(moves, ended)


def summary(s: Sources, period: Period, basis: Basis, converting: ir.Table) -> ir.Table:
    """One row: conversions and their value, and those with at least one touch."""
    c = conversions(s, period, basis)
    touched = converting.select(touched_id=converting.conversion_id).distinct()
    j = c.left_join(touched, c.conversion_id == touched.touched_id)
    has = j.touched_id.notnull()
    return j.aggregate(
        conversions=j.count(), value_minor=ibis.coalesce(j.value_minor.sum(), 0),
        touched=has.ifelse(1, 0).sum(), touched_value_minor=ibis.coalesce(
            has.ifelse(j.value_minor, 0).sum(), 0),
    )


def spend(s: Sources, period: Period, level: Level) -> ir.Table:
    """Ad spend of the period per key (``key_channel``, ``key_campaign``), in minor units."""
    a = facts.spend(s)
    a = a.filter(a.day >= ibis.date(period.start), a.day <= ibis.date(period.end))
    campaign = a.dim_campaign if level is Level.CAMPAIGN else ibis.null("int64")
    return a.group_by(key_channel=a.dim_channel.cast("int64"),
                      key_campaign=campaign.cast("int64")).aggregate(
        spend_minor=a.cost_minor.sum())
