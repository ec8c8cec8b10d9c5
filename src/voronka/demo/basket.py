"""Order lines: a main product priced near the order's value, planted partners, some noise.

The main product is the catalogue item whose list price is nearest (in log terms, with a
little jitter) to the order's planned value; large orders take several units of it. When the
main product has a planted partner, the partner joins with the planted probability; any
order may also carry one random cheap extra product. Unit prices are list prices times one
per-order factor, so that the lines add up to the planned value: the planted spend model is
what the order totals show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voronka.demo.world import World

#: An extra item costs at most this share of the order's planned value.
EXTRA_ITEM_SHARE = 0.15


@dataclass(frozen=True)
class Lines:
    """Order lines, flat: the order each belongs to (index), product index and money in roubles."""

    order: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    unit_cost: np.ndarray

    def order_totals(self, orders: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (total, cost total) per order in roubles."""
        total = np.bincount(self.order, self.quantity * self.unit_price, minlength=orders)
        cost = np.bincount(self.order, self.quantity * self.unit_cost, minlength=orders)
        return total.astype(np.int64), cost.astype(np.int64)


def fill_baskets(world: World, rng: np.random.Generator, value: np.ndarray) -> Lines:
    """Return the lines of orders planned to be worth ``value`` roubles each."""
    products, n = world.products, len(value)
    anchor = _main_products(world, rng, value)
    anchor_quantity = np.maximum(1, np.round(0.9 * value / products.price[anchor])).astype(int)
    partner = products.partner[anchor]
    has_partner = (partner >= 0) & (rng.random(n) < products.partner_probability[anchor])
    extra, has_extra = _extras(world, rng, value)
    has_extra &= (extra != anchor) & ~(has_partner & (extra == partner))
    extra_quantity = 1 + (rng.random(n) < 0.3)
    index = np.arange(n)
    order = np.concatenate([index, index[has_partner], index[has_extra]])
    product = np.concatenate([anchor, partner[has_partner], extra[has_extra]])
    quantity = np.concatenate(
        [anchor_quantity, np.ones(int(has_partner.sum()), int), extra_quantity[has_extra]]
    )
    unit_price = _unit_prices(world, value, order, product, quantity, n)
    sort = np.argsort(order, kind="stable")
    return Lines(
        order[sort], product[sort], quantity[sort], unit_price[sort], products.cost[product][sort]
    )


def _extras(
    world: World, rng: np.random.Generator, value: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a random extra product per order among those cheaper than a share of its value.

    Returns the product and whether the order gets it; only cheap extras keep the per-order
    price factor near 1.
    """
    price = world.products.price
    by_price = np.argsort(price)
    affordable = np.searchsorted(price[by_price], EXTRA_ITEM_SHARE * value, side="right")
    pick = np.floor(rng.random(len(value)) * np.maximum(affordable, 1)).astype(np.int64)
    wanted = rng.random(len(value)) < world.params.extra_item_probability
    return by_price[pick], wanted & (affordable > 0)


def _main_products(world: World, rng: np.random.Generator, value: np.ndarray) -> np.ndarray:
    price = world.products.price
    by_price = np.argsort(price)
    log_price = np.log(price[by_price])
    target = np.log(value) + rng.normal(0.0, world.params.basket_price_jitter, len(value))
    above = np.clip(np.searchsorted(log_price, target), 1, len(price) - 1)
    nearer_below = (target - log_price[above - 1]) < (log_price[above] - target)
    return by_price[np.where(nearer_below, above - 1, above)]


def _unit_prices(
    world: World,
    value: np.ndarray,
    order: np.ndarray,
    product: np.ndarray,
    quantity: np.ndarray,
    orders: int,
) -> np.ndarray:
    """List price x the order's factor; a single main unit takes the rounding remainder."""
    list_price = world.products.price[product]
    list_total = np.bincount(order, list_price * quantity, minlength=orders)
    unit_price = np.maximum(1, np.round(list_price * (value / list_total)[order])).astype(np.int64)
    main = np.arange(len(order)) < orders  # the first ``orders`` lines are the main products
    others = np.bincount(order[~main], (unit_price * quantity)[~main], minlength=orders)
    exact = (quantity[:orders] == 1) & (value - others >= 1)
    unit_price[:orders] = np.where(exact, value - others, unit_price[:orders])
    return unit_price
