"""Touchpoint paths: how each client found the company, came back, and bought again.

A client's path starts with a touch through the lead's channel and campaign (an ad click, a
visit, a newsletter click or a fair), continues with visits some of which return through the
same channel, and ends in the lead-creating touch (a form, a call, or the fair itself). After
the lead come return visits, one before each repeat order, and on another device now and then.
A returning client's later leads each leave their lead-creating touch through their own
channel and campaign. Visitors who never become clients leave anonymous touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voronka.demo import names
from voronka.demo.clients import ClientBatch, draw_campaigns
from voronka.demo.deals import DealBatch
from voronka.demo.orders import OrderBatch
from voronka.demo.rows import TableRows, nullable, nullable_text, pick, rows
from voronka.demo.timeline import days, seconds
from voronka.demo.world import World

#: The touch a channel's visitor leaves, by channel kind.
_TOUCH_OF_KIND = {
    "paid_search": "ad_click",
    "paid_social": "ad_click",
    "display": "ad_click",
    "organic": "visit",
    "direct": "visit",
    "referral": "visit",
    "email": "email_click",
    "offline": "offline",
}
_ON_SITE = ("ad_click", "visit", "form", "email_click")
#: Share of touches after the lead made from a second device (a second visitor id).
SECOND_DEVICE_SHARE = 0.3
#: Anonymous visitors leave this many touches on average.
ANONYMOUS_TOUCHES_PER_VISITOR = 2.0
_VISITOR_SPACE = 2**48


@dataclass
class _Touches:
    client: np.ndarray  # batch index, -1 for anonymous visitors
    visitor: np.ndarray  # number mapped to a visitor id
    kind: np.ndarray
    at: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray


def lead_touch_kind(world: World, batch: ClientBatch) -> np.ndarray:
    """How each lead arrived: at a fair, by phone, or by a form on the site."""
    offline = np.asarray([c.kind == "offline" for c in world.params.channels])[batch.channel]
    return np.where(offline, "offline", np.where(batch.lead_by_call, "call", "form"))


def touchpoint_rows(
    world: World,
    rng: np.random.Generator,
    batch: ClientBatch,
    deals: DealBatch,
    orders: OrderBatch,
    first_id: int,
    first_anonymous: int,
) -> tuple[TableRows, int]:
    """Return the chunk's touchpoints and how many anonymous visitors they introduced."""
    parts = [
        *_before_lead(world, rng, batch),
        _after_lead(world, rng, batch),
        _before_repeat_orders(world, rng, batch, orders),
        _returning_leads(world, batch, deals),
    ]
    anonymous, visitors = _anonymous(world, rng, len(batch), first_anonymous)
    touches = _join([*parts, anonymous], world.window.end)
    return _rows(world, rng, batch, touches, first_id), visitors


def _before_lead(world: World, rng: np.random.Generator, batch: ClientBatch) -> list[_Touches]:
    params, n = world.params, len(batch)
    first_at = batch.lead_at - days(rng.exponential(params.first_touch_days_mean, n))
    first_at = np.maximum(first_at, world.window.start)
    own_kind = _touch_kind(world, batch.channel)
    first = _Touches(np.arange(n), 2 * batch.ids, own_kind, first_at, batch.channel, batch.campaign)
    lead = _Touches(
        np.arange(n),
        2 * batch.ids,
        lead_touch_kind(world, batch),
        batch.lead_at,
        batch.channel,
        batch.campaign,
    )
    middle_count = rng.poisson(max(params.touches_before_lead_mean - 2, 0), n)
    client = np.repeat(np.arange(n), middle_count)
    span = (batch.lead_at - first_at)[client].astype(np.int64)
    at = first_at[client] + (rng.random(len(client)) * span).astype("timedelta64[us]")
    same = rng.random(len(client)) < params.same_channel_share_before_lead
    channel, campaign = _return_channels(world, rng, len(client))
    channel = np.where(same, batch.channel[client], channel)
    campaign = np.where(same, batch.campaign[client], campaign)
    middle = _Touches(
        client, 2 * batch.ids[client], _touch_kind(world, channel), at, channel, campaign
    )
    return [first, middle, lead]


def _after_lead(world: World, rng: np.random.Generator, batch: ClientBatch) -> _Touches:
    count = rng.poisson(world.params.touches_after_lead_mean, len(batch))
    client = np.repeat(np.arange(len(batch)), count)
    span = (world.window.end - batch.lead_at[client]).astype(np.int64)
    at = batch.lead_at[client] + (rng.random(len(client)) * span).astype("timedelta64[us]")
    device = rng.random(len(client)) < SECOND_DEVICE_SHARE
    channel, campaign = _return_channels(world, rng, len(client))
    return _Touches(
        client, 2 * batch.ids[client] + device, _touch_kind(world, channel), at, channel, campaign
    )


def _before_repeat_orders(
    world: World, rng: np.random.Generator, batch: ClientBatch, orders: OrderBatch
) -> _Touches:
    repeat = np.flatnonzero(orders.deal < 0)
    client = orders.client[repeat]
    at = orders.created_at[repeat] - seconds(rng.uniform(300, 2 * 86400, len(repeat)))
    channel, campaign = _return_channels(world, rng, len(repeat))
    return _Touches(
        client, 2 * batch.ids[client], _touch_kind(world, channel), at, channel, campaign
    )


def _returning_leads(world: World, batch: ClientBatch, deals: DealBatch) -> _Touches:
    """The touch that created each later lead of a returning client (none by default)."""
    later = np.flatnonzero(~deals.is_first)
    client, channel = deals.client[later], deals.channel[later]
    offline = np.asarray([c.kind == "offline" for c in world.params.channels])[channel]
    kind = np.where(offline, "offline", np.where(deals.by_call[later], "call", "form"))
    return _Touches(
        client,
        2 * batch.ids[client],
        kind,
        deals.created_at[later],
        channel,
        deals.campaign[later],
    )


def _anonymous(
    world: World, rng: np.random.Generator, clients: int, first_visitor: int
) -> tuple[_Touches, int]:
    params = world.params
    visitors = rng.poisson(
        clients * params.anonymous_touches_per_client / ANONYMOUS_TOUCHES_PER_VISITOR
    )
    count = 1 + rng.poisson(ANONYMOUS_TOUCHES_PER_VISITOR - 1, visitors)
    visitor = np.repeat(np.arange(visitors), count)
    shares = [c.lead_share for c in params.channels]
    channel = np.repeat(rng.choice(len(shares), visitors, p=shares), count)
    day = rng.choice(world.window.days, visitors, p=world.lead_day_p)
    at = world.window.start + days(np.repeat(day, count) + rng.random(len(visitor)))
    touches = _Touches(
        np.full(len(visitor), -1),
        _VISITOR_SPACE + first_visitor + visitor,
        _touch_kind(world, channel),
        at,
        channel,
        draw_campaigns(world, rng, channel),
    )
    return touches, int(visitors)


def _return_channels(world: World, rng: np.random.Generator, count: int) -> tuple[np.ndarray, ...]:
    slugs = [c.slug for c in world.params.channels]
    mix = world.params.return_visit_channels
    options = np.asarray([slugs.index(slug) for slug, _ in mix])
    channel = options[rng.choice(len(mix), count, p=[share for _, share in mix])]
    return channel, draw_campaigns(world, rng, channel)


def _touch_kind(world: World, channel: np.ndarray) -> np.ndarray:
    kinds = np.asarray([_TOUCH_OF_KIND[c.kind] for c in world.params.channels])
    return kinds[channel]


_FIELDS = ("client", "visitor", "kind", "at", "channel", "campaign")


def _join(parts: list[_Touches], end: np.datetime64) -> _Touches:
    """Concatenate, drop touches after the window, order by client then time (anonymous last)."""
    joined = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS}
    keep = joined["at"] < end
    client_key = np.where(joined["client"] < 0, np.iinfo(np.int64).max, joined["client"])
    order = np.lexsort((joined["at"][keep], client_key[keep]))
    return _Touches(*(joined[f][keep][order] for f in _FIELDS))


def _rows(
    world: World, rng: np.random.Generator, batch: ClientBatch, touches: _Touches, first_id: int
) -> TableRows:
    channels, campaigns = world.params.channels, world.campaigns
    count, campaign = len(touches.at), touches.campaign
    has_campaign = campaign >= 0
    on_site = np.isin(touches.kind, _ON_SITE)
    pages = np.where(on_site, 1 + rng.poisson(world.params.pages_per_visit_mean - 1, count), 0)
    per_page = rng.lognormal(np.log(world.params.seconds_per_page_median), 0.6, count)
    utm = {
        name: nullable_text(
            np.asarray([getattr(c, name) or "" for c in channels])[touches.channel], has_campaign
        )
        for name in ("utm_source", "utm_medium")
    }
    referrer = np.asarray([c.referrer or "" for c in channels], dtype=object)[touches.channel]
    landing = pick(names.LANDING_PAGES, rng.integers(0, len(names.LANDING_PAGES), count))
    known = touches.client >= 0
    return rows(
        "touchpoint",
        first_id + np.arange(count),
        visitor_id=_visitor_ids(world, touches.visitor),
        client_id=nullable(batch.ids[np.maximum(touches.client, 0)], known),
        kind=touches.kind,
        occurred_at=touches.at,
        channel_id=touches.channel + 1,
        campaign_id=nullable(campaign + 1, has_campaign),
        **utm,
        utm_campaign=nullable_text(
            np.asarray(campaigns.slug)[np.maximum(campaign, 0)], has_campaign
        ),
        referrer=np.where(on_site & (referrer != ""), referrer, None),
        landing_page=nullable_text(landing, on_site),
        pages=pages,
        seconds_on_site=np.round(pages * per_page).astype(np.int64),
    )


def _visitor_ids(world: World, visitor: np.ndarray) -> np.ndarray:
    """Tracker cookie ids: a seeded bijection of 48-bit numbers, so they look random and are unique."""
    rng = np.random.default_rng([world.seed, 11])
    a = int(rng.integers(2**20, 2**40)) * 2 + 1
    b = int(rng.integers(0, 2**48))
    mixed = (visitor.astype(np.uint64) * np.uint64(a) + np.uint64(b)) % np.uint64(2**48)
    offset = (visitor >= _VISITOR_SPACE).astype(np.uint64) * np.uint64(2**48)
    return (mixed + offset + np.uint64(10**15)).astype(str)
