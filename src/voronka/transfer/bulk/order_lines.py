"""An order line of a bulk import: its cells parsed and its money worked out exactly.

A line comes to ``quantity × unit_price − discount``; a discount is an amount or a
percentage of the line (rounded half up to a kopeck). Stored lines keep
``total = Σ quantity × unit_price`` exact: a net amount that is not a whole number of
kopecks per unit becomes two lines (``n`` units at ``p + 0.01`` and the rest at ``p``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from voronka.db.types import CENT, to_minor
from voronka.transfer import cells
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.touchpoints import _whole

MAX_QUANTITY = 1_000_000_000


@dataclass
class Line:
    """A parsed file row of an order (money as given; blanks ``None``)."""

    index: int
    sku: str
    name: str | None
    quantity: int
    unit_price: Decimal | None
    unit_cost: Decimal | None
    discount: str | None
    line_total: Decimal | None


def price_line(
    columns: Columns, line: Line, product: tuple[Any, ...], currency: str
) -> tuple[int, int, list[tuple[int, int, int]]] | None:
    """(net minor, cost minor, stored (quantity, unit price, unit cost) lines) of a row."""
    _, price, cost, product_currency, _ = product
    given = {"unit_price": line.unit_price, "unit_cost": line.unit_cost}
    for name, value in given.items():
        if value is None and product_currency != currency:
            columns.fail(
                line.index,
                name,
                f"the product is priced in {product_currency}; give the price in {currency}",
            )
            return None
    unit_price = to_minor(line.unit_price) if line.unit_price is not None else price
    unit_cost = to_minor(line.unit_cost) if line.unit_cost is not None else cost
    gross = line.quantity * unit_price
    discount = discount_minor(line.discount, gross)
    if discount > gross:
        columns.fail(line.index, "discount", f"more than the line ({shown(gross)})", line.discount)
        return None
    net = gross - discount
    if line.line_total is not None and to_minor(line.line_total) != net:
        columns.fail(
            line.index,
            "line_total",
            f"the line comes to {shown(net)} (quantity × unit price − discount)",
            str(line.line_total),
        )
        return None
    return net, line.quantity * unit_cost, split(net, line.quantity, unit_cost)


def split(net: int, quantity: int, unit_cost: int) -> list[tuple[int, int, int]]:
    """Stored lines whose quantity × price adds up to ``net`` exactly: one, or two when the
    net amount is not a whole number of kopecks per unit."""
    base, extra = divmod(net, quantity)
    if extra == 0:
        return [(quantity, base, unit_cost)]
    return [(extra, base + 1, unit_cost), (quantity - extra, base, unit_cost)]


def discount_minor(discount: str | None, gross: int) -> int:
    if discount is None:
        return 0
    if discount.endswith("%"):
        share = Decimal(discount[:-1]) * gross / 100
        return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return to_minor(Decimal(discount))


def quantity(value: object) -> int:
    number = _whole(value)
    if not 0 < number <= MAX_QUANTITY:
        raise ValueError(f"a whole number from 1 to {MAX_QUANTITY}")
    return number


def money(value: object) -> Decimal:
    amount = cells.amount(value)  # type: ignore[arg-type]
    if amount < 0:
        raise ValueError("must not be negative")
    return amount


def discount_cell(value: object) -> str:
    """An amount (``150.00``) or a percentage (``10%``, ``12.5 %``), kept as text."""
    raw = cells.text(value).replace(" ", "")  # type: ignore[arg-type]
    if raw.endswith("%"):
        share = cells.amount(raw[:-1])
        if not 0 <= share <= 100:
            raise ValueError("a percentage from 0 to 100")
        return f"{share}%"
    return str(money(raw))


def shown(minor: int) -> str:
    return str((Decimal(minor) / 100).quantize(CENT))
