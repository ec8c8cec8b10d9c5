"""Weekly stock snapshots driven by what was actually sold.

Each product is restocked up to ``ORDER_UP_TO_WEEKS`` of its average weekly sales whenever it
falls below ``REORDER_WEEKS`` of them, so cover days and ABC-XYZ advice have real numbers.
"""

from __future__ import annotations

import numpy as np

from voronka.demo.rows import TableRows, rows
from voronka.demo.world import World

ORDER_UP_TO_WEEKS = 6.0
REORDER_WEEKS = 2.0
SAFETY_UNITS = 3


def stock_rows(world: World, sold: np.ndarray) -> TableRows:
    """Return one snapshot per product per week (the stock at the start of the week)."""
    products, weeks = sold.shape
    weekly = sold.mean(axis=1)
    order_up_to = np.ceil(ORDER_UP_TO_WEEKS * weekly) + SAFETY_UNITS
    reorder_point = np.ceil(REORDER_WEEKS * weekly) + 1
    level = order_up_to.copy()
    snapshots = np.empty((products, weeks), dtype=np.int64)
    for week in range(weeks):
        snapshots[:, week] = level
        level = np.maximum(level - sold[:, week], 0)
        level = np.where(level < reorder_point, order_up_to, level)
    week_starts = world.window.first_day + 7 * np.arange(weeks)
    week_index = np.flatnonzero(week_starts < world.window.first_day + world.window.days)
    product = np.repeat(np.arange(products), len(week_index))
    week_of_row = np.tile(week_index, products)
    return rows(
        "stock_level",
        np.arange(1, len(product) + 1),
        product_id=product + 1,
        warehouse="main",
        as_of=week_starts[week_of_row],
        quantity=snapshots[product, week_of_row],
    )
