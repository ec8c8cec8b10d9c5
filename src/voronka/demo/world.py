"""The fixed structure of the demo company, as arrays indexed the way the generator needs.

Ids of reference rows are their position plus one (channel ``k`` has id ``k + 1``), so the
generator turns an index into an id by adding one and never looks anything up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from voronka.demo.params import DemoParams
from voronka.demo.timeline import Window, lead_day_weights, make_window

#: Users: the admin is id 1, heads of sales 2 and 3, managers from 4, then marketer, analyst.
FIRST_MANAGER_ID = 4
#: The company's own numbers: the office line (outbound calls) and the tracking pool.
OFFICE_NUMBER = "+74951230000"
TRACKING_NUMBER_BASE = 74951231000


@dataclass(frozen=True)
class Campaigns:
    """Every campaign, exhibitions included, by global index (id = index + 1)."""

    channel: np.ndarray
    slug: list[str]
    name: list[str]
    share: np.ndarray  # share of the channel's leads
    win_multiplier: np.ndarray
    #: Opening local day of a fair (NaT for online campaigns).
    event_day: np.ndarray

    def __len__(self) -> int:
        return len(self.channel)

    def of_channel(self, channel: int) -> np.ndarray:
        return np.flatnonzero(self.channel == channel)


@dataclass(frozen=True)
class Products:
    """The catalogue by index (id = index + 1); prices in whole roubles."""

    sku: list[str]
    name: list[str]
    group: np.ndarray
    price: np.ndarray
    cost: np.ndarray
    #: Index of the planted partner product (-1 none) and P(partner | this product).
    partner: np.ndarray
    partner_probability: np.ndarray

    def __len__(self) -> int:
        return len(self.sku)


@dataclass(frozen=True)
class World:
    """Parameters, calendar and reference data shared by every chunk of clients."""

    params: DemoParams
    window: Window
    seed: int
    clients: int
    #: Mean leads (deals) per top-level client: 1 means exactly one each (see ``leads``).
    leads_per_client: float
    campaigns: Campaigns
    products: Products
    #: Probability of each day of the window for an online lead.
    lead_day_p: np.ndarray
    hour_p: np.ndarray

    @property
    def manager_ids(self) -> np.ndarray:
        return FIRST_MANAGER_ID + np.arange(len(self.params.managers))

    @property
    def stage_ids(self) -> np.ndarray:
        return np.arange(1, len(self.params.stages) + 1)

    def tracking_number(self, channel: np.ndarray, campaign: np.ndarray) -> np.ndarray:
        """Return the number a caller of this channel/campaign dials (campaign -1: channel's)."""
        index = np.where(campaign >= 0, campaign, len(self.campaigns) + channel)
        return np.strings.add("+", (TRACKING_NUMBER_BASE + 1 + index).astype(str))


def build_world(
    params: DemoParams, *, seed: int, clients: int, end: date, leads_per_client: float = 1.0
) -> World:
    """Lay out the company for ``clients`` clients over the window ending on ``end``."""
    window = make_window(end, params.utc_offset_hours)
    day_weights = lead_day_weights(params, window)
    hours = np.asarray(params.hour_weights)
    return World(
        params=params,
        window=window,
        seed=seed,
        clients=clients,
        leads_per_client=leads_per_client,
        campaigns=_campaigns(params, window),
        products=_products(params),
        lead_day_p=day_weights / day_weights.sum(),
        hour_p=hours / hours.sum(),
    )


def exhibition_days(params: DemoParams, window: Window) -> list[np.datetime64]:
    """Opening days of the fairs that fall inside the window."""
    first = window.first_day
    last = first + np.timedelta64(window.days - 1, "D")
    years = range(first.astype(object).year, last.astype(object).year + 1)
    days = [
        np.datetime64(date(year, month, params.exhibition_day), "D")
        for year in years
        for month in params.exhibition_months
    ]
    return [day for day in days if first <= day <= last]


def _campaigns(params: DemoParams, window: Window) -> Campaigns:
    channel, slug, name, share, multiplier, event = [], [], [], [], [], []
    for index, spec in enumerate(params.channels):
        rows: list[tuple[str, str, float, float, np.datetime64 | None]] = [
            (c.slug, c.name, c.share, c.win_multiplier, None) for c in spec.campaigns
        ]
        if spec.kind == "offline":
            fairs = exhibition_days(params, window)
            rows = [(f"expo-{d}", f"Fair {d}", 1 / len(fairs), 1.0, d) for d in fairs]
        for row in rows:
            channel.append(index)
            slug.append(row[0])
            name.append(row[1])
            share.append(row[2])
            multiplier.append(row[3])
            event.append(row[4] if row[4] is not None else np.datetime64("NaT", "D"))
    return Campaigns(
        np.asarray(channel),
        slug,
        name,
        np.asarray(share),
        np.asarray(multiplier),
        np.asarray(event, dtype="datetime64[D]"),
    )


def _products(params: DemoParams) -> Products:
    sku, name, group, price, cost = [], [], [], [], []
    for index, spec in enumerate(params.catalogue):
        prices = np.geomspace(spec.min_price, spec.max_price, len(spec.product_names))
        for number, (product, list_price) in enumerate(
            zip(spec.product_names, prices, strict=True)
        ):
            sku.append(f"{spec.sku_prefix}-{number + 1:02d}")
            name.append(product)
            group.append(index)
            price.append(int(round(list_price, -1)))
            cost.append(int(round(list_price * spec.cost_share)))
    partner = np.full(len(sku), -1)
    probability = np.zeros(len(sku))
    for pair in params.product_pairs:
        partner[sku.index(pair.anchor_sku)] = sku.index(pair.partner_sku)
        probability[sku.index(pair.anchor_sku)] = pair.probability
    return Products(
        sku, name, np.asarray(group), np.asarray(price), np.asarray(cost), partner, probability
    )
