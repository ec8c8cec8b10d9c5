"""Orders with their lines in bulk: one file row per line, grouped into orders by number.

The rows of an order share its ``number`` (unique in the workspace, so it is the order's
external key) and sit next to each other in the file; order-level cells (client, status,
dates, currency, owner, UTM values, deal, total) may be given on one row or repeated, but
never differ (``deal`` names a deal of the same client by its external id). An order is
written whole or not at all: one bad row rejects every row of its order, each reported.

* **Client** by ``client_id``, else the normalised phone, else e-mail, within the importer's
  scope (an order is visible exactly when its client is).
* **Products** by SKU; an unknown SKU is an error of its row unless the run's option
  ``create_products`` is set (the product is then created from ``product_name`` and the
  line's prices). A line's prices default to the product's own when it is priced in the
  order's currency.
* **Money** is exact: a line comes to ``quantity × unit_price − discount`` (an amount, or a
  percentage of the line rounded half up to a kopeck); an order's total is the sum of its
  lines and a ``total`` or ``line_total`` cell must equal what the lines give. A discounted
  line whose amount does not divide into whole kopecks per unit is stored as two lines
  (``n`` units at ``p + 0.01`` and the rest at ``p``) so that every stored total is exact.
* **Status and dates**: the history written is *new* at ``ordered_at``, then *paid* at
  ``paid_at`` (default ``ordered_at``) for paid, shipped, delivered and returned orders, then
  the final status at ``status_at``; times without an offset are in the company's zone.
* **Duplicates**: a stored order with the number is skipped (``on_duplicate=skip``), or
  rewritten when the file differs (``update``: lines, totals, status — appending the change
  to the history —, payment date, owner, channel), so re-importing a file changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text

from voronka.config import get_settings
from voronka.db.types import UTCDateTime, to_minor
from voronka.fields import MAX_MONEY
from voronka.order.models import OrderStatus
from voronka.transfer import cells
from voronka.transfer.bulk import fast, linking, order_lines
from voronka.transfer.bulk.activities import _word
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context, prepared_of
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.products import _currency
from voronka.transfer.bulk.staging import Stage
from voronka.transfer.bulk.touchpoints import _stored_time, _whole
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.options import OnDuplicate
from voronka.transfer.reading import SourceRow

S = OrderStatus
STATUS_WORDS = {
    **{s.value: s for s in OrderStatus},
    "новый": S.NEW,
    "новая": S.NEW,
    "подтвержден": S.CONFIRMED,
    "подтверждён": S.CONFIRMED,
    "оплачен": S.PAID,
    "оплачено": S.PAID,
    "отправлен": S.SHIPPED,
    "отгружен": S.SHIPPED,
    "доставлен": S.DELIVERED,
    "выполнен": S.DELIVERED,
    "отменен": S.CANCELLED,
    "отменён": S.CANCELLED,
    "возврат": S.RETURNED,
    "возвращен": S.RETURNED,
    "возвращён": S.RETURNED,
}
PAID_STATUSES = frozenset({S.PAID, S.SHIPPED, S.DELIVERED, S.RETURNED})
AFTER_PAYMENT = frozenset({S.SHIPPED, S.DELIVERED, S.RETURNED})
#: Clocks of exporting systems run a little ahead; further in the future is a mistake.
FUTURE_TOLERANCE = timedelta(minutes=5)
NO_DEAL = "no deal of this client has this external id"
REJECTED = "order {number}: row {row} has an error, so none of its rows is imported"
UNKNOWN_SKU = (
    "no product with this SKU (import the products first, or create them: --create-products)"
)

ORDERS = Stage(
    "import_stage_order",
    (
        ("row_no", "int"),
        ("number", "text"),
        ("client_id", "id"),
        ("phone", "text"),
        ("email", "text"),
        ("unknown_client", "bool"),
        ("owner_id", "id"),
        ("channel_id", "id"),
        ("campaign_id", "id"),
        ("utm_source", "text"),
        ("utm_campaign", "text"),
        ("status", "text"),
        ("currency", "text"),
        ("total_minor", "int"),
        ("cost_total_minor", "int"),
        ("ordered_at", "time"),
        ("paid_at", "time"),
        ("outcome", "text"),
        ("order_id", "id"),
        ("deal_ref", "text"),
        ("deal_id", "id"),
    ),
)
LINES = Stage(
    "import_stage_order_line",
    (
        ("row_no", "int"),
        ("order_row", "int"),
        ("position", "int"),
        ("product_id", "id"),
        ("quantity", "int"),
        ("unit_price_minor", "int"),
        ("unit_cost_minor", "int"),
    ),
)
CHANGES = Stage(
    "import_stage_order_status",
    (
        ("row_no", "int"),
        ("step", "int"),
        ("from_status", "text"),
        ("to_status", "text"),
        ("changed_at", "time"),
    ),
)
SKUS = Stage(
    "import_stage_sku",
    (
        ("row_no", "int"),
        ("sku", "text"),
        ("name", "text"),
        ("price_minor", "int"),
        ("cost_price_minor", "int"),
        ("currency", "text"),
    ),
)
_TAKE_TURNS = text("SELECT pg_advisory_xact_lock(hashtext('voronka.bulk_orders'), :ws)")
_PRODUCTS = text(
    """SELECT s.sku, p.id, p.price_minor, p.cost_price_minor, p.currency, p.is_active
       FROM import_stage_sku s JOIN product p ON p.workspace_id = :ws AND p.sku = s.sku"""
)
_NEW_PRODUCTS = text(
    """INSERT INTO product (workspace_id, sku, name, group_id, price_minor, cost_price_minor,
         currency, unit, is_active, created_at, updated_at, version)
       SELECT :ws, sku, name, NULL, price_minor, cost_price_minor, currency, 'pcs', true,
         :now, :now, 1
       FROM import_stage_sku ORDER BY row_no"""
).bindparams(bindparam("now", type_=UTCDateTime()))
_STORED = text(
    """SELECT s.row_no, s.client_id AS row_client_id, o.id, o.client_id, o.status, o.currency,
         o.paid_at, o.owner_id,
         o.channel_id, o.campaign_id, o.is_deleted, s.deal_id AS row_deal_id, o.deal_id,
         (SELECT max(c.changed_at) FROM order_status_change c WHERE c.order_id = o.id)
           AS last_change
       FROM import_stage_order s JOIN sales_order o ON o.id = s.order_id"""
).columns(paid_at=UTCDateTime(), last_change=UTCDateTime())
_STORED_LINES = text(
    """SELECT l.order_id, l.product_id, l.quantity, l.unit_price_minor, l.unit_cost_minor
       FROM order_line l JOIN import_stage_order s ON s.order_id = l.order_id
       ORDER BY l.order_id, l.id"""
)
_INSERT_ORDERS = text(
    """INSERT INTO sales_order (workspace_id, number, client_id, deal_id, owner_id, channel_id,
         campaign_id, status, total_minor, cost_total_minor, currency, paid_at, is_deleted,
         created_at, updated_at, version)
       SELECT :ws, s.number, s.client_id, s.deal_id, coalesce(s.owner_id, c.owner_id), s.channel_id,
         s.campaign_id, s.status, s.total_minor, s.cost_total_minor, s.currency, s.paid_at,
         false, s.ordered_at, :now, 1
       FROM import_stage_order s JOIN client c ON c.id = s.client_id
       WHERE s.outcome = 'create' ORDER BY s.row_no"""
).bindparams(bindparam("now", type_=UTCDateTime()))
# stored orders with the row's number: skipped unless decided otherwise (one join)
_MATCH = """UPDATE import_stage_order SET order_id = o.id, outcome = 'skip'
    FROM sales_order AS o
    WHERE o.workspace_id = :ws AND o.number = import_stage_order.number"""
# the deal an order names by its external id: a live deal of the order's client
_DEALS = """UPDATE import_stage_order SET deal_id = d.id
    FROM deal AS d
    WHERE import_stage_order.deal_ref IS NOT NULL AND d.workspace_id = :ws
      AND d.external_id = import_stage_order.deal_ref
      AND d.client_id = import_stage_order.client_id AND d.is_deleted = false"""
_NO_DEAL = "SELECT row_no FROM import_stage_order WHERE deal_ref IS NOT NULL AND deal_id IS NULL"
_NEW_IDS = """UPDATE import_stage_order SET order_id = o.id
    FROM sales_order AS o
    WHERE import_stage_order.outcome = 'create' AND o.workspace_id = :ws
      AND o.number = import_stage_order.number"""
_DROP_LINES = """DELETE FROM order_line WHERE order_id IN (
      SELECT order_id FROM import_stage_order WHERE outcome = 'update')"""
_UPDATE_ORDERS = text(
    """UPDATE sales_order SET status = s.status, total_minor = s.total_minor,
         cost_total_minor = s.cost_total_minor, currency = s.currency, paid_at = s.paid_at,
         owner_id = coalesce(s.owner_id, sales_order.owner_id),
         channel_id = coalesce(s.channel_id, sales_order.channel_id),
         campaign_id = coalesce(s.campaign_id, sales_order.campaign_id),
         deal_id = coalesce(s.deal_id, sales_order.deal_id),
         updated_at = :now, version = sales_order.version + 1
       FROM import_stage_order AS s
       WHERE s.order_id = sales_order.id AND s.outcome = 'update'"""
).bindparams(bindparam("now", type_=UTCDateTime()))
_INSERT_LINES = """INSERT INTO order_line (workspace_id, order_id, product_id, quantity,
      unit_price_minor, unit_cost_minor)
    SELECT :ws, s.order_id, l.product_id, l.quantity, l.unit_price_minor, l.unit_cost_minor
    FROM import_stage_order_line l JOIN import_stage_order s ON s.row_no = l.order_row
    WHERE s.outcome IN ('create', 'update') ORDER BY l.order_row, l.position"""
_INSERT_CHANGES = """INSERT INTO order_status_change (workspace_id, order_id, from_status,
      to_status, changed_at, changed_by_id)
    SELECT :ws, s.order_id, h.from_status, h.to_status, h.changed_at, :by
    FROM import_stage_order_status h JOIN import_stage_order s ON s.row_no = h.row_no
    ORDER BY h.row_no, h.step"""


@dataclass
class _Parsed:
    """A batch parsed ahead of its write: its columns (with their errors) and orders."""

    columns: Columns
    orders: dict[str, _Order]


@dataclass
class _Order:
    """An order assembled from its rows: the agreed order-level values and priced lines."""

    number: str
    indices: list[int]
    head: dict[str, Any] = field(default_factory=dict)
    lines: list[order_lines.Line] = field(default_factory=list)
    #: the lines as stored: (batch index, product id, quantity, unit price, unit cost)
    stored: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    total: int = 0
    cost_total: int = 0
    history: list[tuple[S | None, S, datetime]] = field(default_factory=list)

    @property
    def status(self) -> S:
        return self.head["status"] or S.NEW


class OrderLoader:
    """Bulk writer of order rows (one row per order line)."""

    resource = "order"

    def __init__(self) -> None:
        self.create_products = False
        self._seen: set[str] = set()  # numbers of earlier batches: an order's rows are adjacent

    def configure(self, options: dict[str, Any]) -> None:
        self.create_products = bool(options.get("create_products"))

    def group_key(self, mapping: ColumnMapping) -> Callable[[SourceRow], object]:
        column = mapping.column_of("number")
        return lambda row: cells.text(row.values.get(column or ""))

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        return [rows]

    def prepare_ahead(self, mapping: ColumnMapping) -> bool:
        # parsing reads only users (owners) and channels (sources), which an import never
        # changes; products, which an import may create, are looked up by ``write``
        return True

    def prepare(self, ctx: Context, rows: list[SourceRow]) -> _Parsed:
        """Parse the batch's rows into orders (no database writes; batches in file order)."""
        columns = Columns(rows, ctx.mapping)
        return _Parsed(columns, self._assemble(ctx, columns))

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult:
        ready: _Parsed = prepared_of(rows) or self.prepare(ctx, rows)
        columns, orders = ready.columns, ready.orders
        self._price(ctx, columns, orders)
        good = self._reject_broken(columns, orders)
        if not ctx.sqlite:
            # two imports must not both find a number free and both insert it
            ctx.conn.execute(_TAKE_TURNS, {"ws": ctx.actor.workspace_id})
        outcomes = self._store(ctx, columns, good)
        self._reject_broken(columns, orders)  # rows of orders refused while matching
        result = BatchResult(rows=len(rows))
        for order in orders.values():
            outcome = (
                "error"
                if any(columns.failed(i) for i in order.indices)
                else outcomes.get(order.number, "error")
            )
            if outcome == "create":
                result.created += len(order.indices)
            elif outcome == "update":
                result.updated += len(order.indices)
            elif outcome == "skip":
                result.duplicates += len(order.indices)
        result.errors = {rows[i].number: e for i, e in columns.errors.items()}
        result.sample = _sample(rows, columns, orders, outcomes)
        return result

    # -- parsing -------------------------------------------------------------------------

    def _assemble(self, ctx: Context, columns: Columns) -> dict[str, _Order]:
        """Parse every row and group the rows by order number (in order of appearance)."""
        numbers = columns.text("number", 64, required=True)
        skus = columns.text("sku", 64, required=True)
        names = columns.text("product_name", 300)
        quantities = columns.parse("quantity", order_lines.quantity, once_per_value=True)
        prices = columns.parse("unit_price", order_lines.money, once_per_value=True)
        costs = columns.parse("unit_cost", order_lines.money, once_per_value=True)
        discounts = columns.parse("discount", order_lines.discount_cell, once_per_value=True)
        line_totals = columns.parse("line_total", order_lines.money, once_per_value=True)
        head = self._order_fields(ctx, columns)
        orders: dict[str, _Order] = {}
        for i, number in enumerate(numbers):
            if number is None:
                continue
            if number in self._seen:
                columns.fail(
                    i,
                    "number",
                    "the rows of an order must be next to each other in "
                    "the file; this order appeared in an earlier part",
                    number,
                )
            if quantities[i] is None and not columns.failed(i):
                columns.fail(i, "quantity", "required")
            orders.setdefault(number, _Order(number, [])).indices.append(i)
        self._seen.update(orders)
        for order in orders.values():
            for name, values in head.items():
                order.head[name] = linking.agreed(columns, order.indices, name, values)
            order.lines = [
                order_lines.Line(
                    i,
                    skus[i] or "",
                    names[i],
                    quantities[i] or 0,
                    prices[i],
                    costs[i],
                    discounts[i],
                    line_totals[i],
                )
                for i in order.indices
            ]  # type: ignore[misc]
            self._history(ctx, columns, order)
        return orders

    @staticmethod
    def _order_fields(ctx: Context, columns: Columns) -> dict[str, list[Any]]:
        moment = lambda v: cells.moment(v, ctx.zone)  # noqa: E731
        parsed: dict[str, list[Any]] = {
            "client_id": columns.parse("client_id", _whole, once_per_value=True),
            "phone": columns.parse(
                "phone", lambda v: fast.phone(cells.text(v), ctx.region), once_per_value=True
            ),
            "email": columns.parse(
                "email", lambda v: fast.email(cells.text(v)), once_per_value=True
            ),
            "status": columns.parse(
                "status", lambda v: _word(v, STATUS_WORDS, "status"), once_per_value=True
            ),
            "ordered_at": columns.parse("ordered_at", moment),
            "paid_at": columns.parse("paid_at", moment),
            "status_at": columns.parse("status_at", moment),
            "currency": columns.parse("currency", _currency, once_per_value=True),
            "owner": columns.parse(
                "owner", lambda v: ctx.lookups.user_id(cells.text(v)), once_per_value=True
            ),
            "source": columns.parse(
                "source", lambda v: ctx.lookups.channel_id(cells.text(v)), once_per_value=True
            ),
            "utm_source": columns.text("utm_source", 200),
            "utm_medium": columns.text("utm_medium", 200),
            "utm_campaign": columns.text("utm_campaign", 200),
            "deal": columns.text("deal", 128),
            "total": columns.parse("total", order_lines.money, once_per_value=True),
        }
        for i, owner in enumerate(parsed["owner"]):
            if owner is not None and not columns.failed(i) and not ctx.owner_allowed(owner):
                columns.fail(i, "owner", "you may not credit an order to that owner")
        return parsed

    @staticmethod
    def _history(ctx: Context, columns: Columns, order: _Order) -> None:
        """The status history the order's dates and status give, or errors of its first row."""
        first, h = order.indices[0], order.head
        ordered, paid, status_at, status = (
            h["ordered_at"],
            h["paid_at"],
            h["status_at"],
            order.status,
        )
        if ordered is None:
            if not any(columns.failed(i) for i in order.indices):
                columns.fail(first, "ordered_at", "required")
            return
        if paid is not None and status not in PAID_STATUSES:
            columns.fail(first, "paid_at", f"a {status.value} order has no payment date")
            return
        history: list[tuple[S | None, S, datetime, str]] = [(None, S.NEW, ordered, "ordered_at")]
        if status in PAID_STATUSES:
            paid = paid or ordered
            history.append((S.NEW, S.PAID, paid, "paid_at"))
            if status in AFTER_PAYMENT:
                history.append((S.PAID, status, status_at or paid, "status_at"))
        elif status is not S.NEW:
            history.append((S.NEW, status, status_at or ordered, "status_at"))
        elif status_at is not None and status_at != ordered:
            columns.fail(first, "status_at", "a new order entered its status when it was made")
        for (_, _, before, _), (_, _, at, name) in zip(history, history[1:], strict=False):
            if at < before:
                columns.fail(
                    first,
                    name,
                    "earlier than the step before it (order date, "
                    "then payment, then the final status)",
                )
        if max(at for *_, at, _ in history) > ctx.now + FUTURE_TOLERANCE:
            columns.fail(first, "ordered_at", "the order's dates must not be in the future")
        h["paid_at"] = paid if status in PAID_STATUSES else None
        order.history = [(a, b, at) for a, b, at, _ in history]

    # -- products and money --------------------------------------------------------------

    def _price(self, ctx: Context, columns: Columns, orders: dict[str, _Order]) -> None:
        """Find the products and price every line exactly; errors name the row and field."""
        default_currency = get_settings().default_currency
        products = self._products(ctx, columns, orders, default_currency)
        for order in orders.values():
            currency = order.head["currency"] or default_currency
            order.head["currency"] = currency
            for line in order.lines:
                product = products.get(line.sku)
                if product is None or columns.failed(line.index):
                    continue
                priced = order_lines.price_line(columns, line, product, currency)
                if priced is None:
                    continue
                net, cost, stored = priced
                order.total += net
                order.cost_total += cost
                order.stored.extend((line.index, product[0], *part) for part in stored)
            self._check_total(columns, order, ctx.mapping.column_of("total"))

    @staticmethod
    def _check_total(columns: Columns, order: _Order, total_column: str | None) -> None:
        if order.total >= to_minor(MAX_MONEY) or order.cost_total >= to_minor(MAX_MONEY):
            columns.fail(order.indices[0], "total", f"the order total must stay below {MAX_MONEY}")
        given = order.head["total"]
        if (
            given is not None
            and to_minor(given) != order.total
            and not any(columns.failed(i) for i in order.indices)
        ):
            index = next(
                i
                for i in order.indices
                if columns.rows[i].values.get(total_column or "") not in ("", None)
            )
            columns.fail(
                index, "total", f"the lines add up to {order_lines.shown(order.total)}", str(given)
            )

    def _products(
        self, ctx: Context, columns: Columns, orders: dict[str, _Order], currency: str
    ) -> dict[str, tuple[Any, ...]]:
        """SKU → (id, price, cost, currency, active) of the batch's products; unknown SKUs
        are errors of their rows, or new products with ``create_products``."""
        wanted = {line.sku: line for order in orders.values() for line in order.lines if line.sku}
        SKUS.reset(ctx.conn)
        SKUS.load(ctx.conn, [(n, sku, None, None, None, None) for n, sku in enumerate(wanted)])
        ws = {"ws": ctx.actor.workspace_id}
        found = {r[0]: tuple(r[1:]) for r in ctx.conn.execute(_PRODUCTS, ws)}
        missing = {sku for sku in wanted if sku not in found}
        if missing and self.create_products:
            self._create_products(ctx, columns, orders, missing, currency)
            found = {r[0]: tuple(r[1:]) for r in ctx.conn.execute(_PRODUCTS, ws)}
        for order in orders.values():
            for line in order.lines:
                if not line.sku or columns.failed(line.index):
                    continue
                product = found.get(line.sku)
                if product is None:
                    columns.fail(line.index, "sku", UNKNOWN_SKU, line.sku)
                elif not product[4]:
                    columns.fail(line.index, "sku", "the product is inactive", line.sku)
        return found

    @staticmethod
    def _create_products(
        ctx: Context,
        columns: Columns,
        orders: dict[str, _Order],
        missing: set[str],
        default_currency: str,
    ) -> None:
        """New products for unknown SKUs, named and priced by their first good line."""
        new: dict[str, tuple[Any, ...]] = {}
        for order in orders.values():
            currency = order.head["currency"] or default_currency
            for line in order.lines:
                if line.sku not in missing or line.sku in new or columns.failed(line.index):
                    continue
                if line.unit_price is None:
                    columns.fail(line.index, "unit_price", "required for a new product")
                    continue
                new[line.sku] = (
                    len(new),
                    line.sku,
                    line.name or line.sku,
                    to_minor(line.unit_price),
                    to_minor(line.unit_cost or 0),
                    currency,
                )
        SKUS.reset(ctx.conn)
        SKUS.load(ctx.conn, list(new.values()))
        ctx.conn.execute(_NEW_PRODUCTS, {"ws": ctx.actor.workspace_id, "now": ctx.now})
        SKUS.reset(ctx.conn)
        SKUS.load(ctx.conn, [(n, sku, None, None, None, None) for n, sku in enumerate(new)])

    # -- writing -------------------------------------------------------------------------

    @staticmethod
    def _reject_broken(columns: Columns, orders: dict[str, _Order]) -> list[_Order]:
        """Orders without errors; every other row of an order with a bad row is an error."""
        good: list[_Order] = []
        for order in orders.values():
            bad = [i for i in order.indices if columns.failed(i)]
            if not bad:
                good.append(order)
                continue
            row = columns.rows[bad[0]].number
            for i in order.indices:
                if not columns.failed(i):
                    columns.fail(
                        i, "number", REJECTED.format(number=order.number, row=row), order.number
                    )
        return good

    def _store(self, ctx: Context, columns: Columns, orders: list[_Order]) -> dict[str, str]:
        """Match, decide and write the good orders; number → create | update | skip | error."""
        ORDERS.reset(ctx.conn)
        LINES.reset(ctx.conn)
        CHANGES.reset(ctx.conn)
        by_row = {columns.rows[o.indices[0]].number: o for o in orders}
        if not by_row:
            return {}
        staged = [_staged(ctx, row, o) for row, o in by_row.items()]
        ORDERS.load(ctx.conn, staged, analyzed=ctx.staged_shapes)
        linking.link(ctx, ORDERS.name)
        for row, (name, message) in linking.client_problems(ctx, ORDERS.name).items():
            columns.fail(by_row[row].indices[0], name, message)
        ctx.conn.execute(text(_MATCH), {"ws": ctx.actor.workspace_id})
        ctx.conn.execute(text(_DEALS), {"ws": ctx.actor.workspace_id})
        for row in ctx.conn.execute(text(_NO_DEAL)).scalars():
            order = by_row[row]
            if not columns.failed(order.indices[0]):
                columns.fail(order.indices[0], "deal", NO_DEAL, order.head["deal"])
        outcomes, stored = self._decide(ctx, columns, by_row)
        exceptions = [
            {"outcome": outcome, "row": row}
            for row, o in by_row.items()
            if (outcome := outcomes.get(o.number, "error"))
            != ("skip" if row in stored else "create")
        ]
        if exceptions:  # errors and updates only: a statement per row is slow on a server
            ctx.conn.execute(
                text("UPDATE import_stage_order SET outcome = :outcome WHERE row_no = :row"),
                exceptions,
            )
        writing = {
            row: o for row, o in by_row.items() if outcomes.get(o.number) in ("create", "update")
        }
        LINES.load(
            ctx.conn,
            [
                (line[0], row, position, *line[1:])
                for row, o in writing.items()
                for position, line in enumerate(_lines(columns, o))
            ],
            analyzed=ctx.staged_shapes,
        )
        CHANGES.load(
            ctx.conn,
            [
                (row, step, None if a is None else a.value, b.value, _stored_time(ctx, at))
                for row, o in writing.items()
                for step, (a, b, at) in enumerate(o.history)
            ],
            analyzed=ctx.staged_shapes,
        )
        params = {"ws": ctx.actor.workspace_id, "now": ctx.now, "by": ctx.actor.user_id}
        ctx.conn.execute(_INSERT_ORDERS, params)
        ctx.conn.execute(text(_NEW_IDS), params)
        ctx.conn.execute(text(_DROP_LINES), params)
        ctx.conn.execute(_UPDATE_ORDERS, params)
        ctx.conn.execute(text(_INSERT_LINES), params)
        ctx.conn.execute(text(_INSERT_CHANGES), params)
        return outcomes

    def _decide(
        self, ctx: Context, columns: Columns, by_row: dict[int, _Order]
    ) -> tuple[dict[str, str], dict[int, Any]]:
        """create, skip or update for each order whose client was found; and the stored
        orders by staged row."""
        stored = {r.row_no: r for r in ctx.conn.execute(_STORED)}
        visible = linking.visible_clients(ctx, {r.client_id for r in stored.values()})
        lines = self._stored_lines(ctx) if ctx.on_duplicate is OnDuplicate.UPDATE else {}
        outcomes: dict[str, str] = {}
        for row, order in by_row.items():
            first = order.indices[0]
            if columns.failed(first):
                continue
            found = stored.get(row)
            if found is None:
                outcomes[order.number] = "create"
            elif found.is_deleted or found.client_id not in visible:
                columns.fail(
                    first,
                    "number",
                    "an order you may not see (or a deleted one) has "
                    "this number; it was not changed",
                    order.number,
                )
            elif ctx.on_duplicate is not OnDuplicate.UPDATE:
                outcomes[order.number] = "skip"
            elif found.client_id != found.row_client_id:
                columns.fail(
                    first,
                    "number",
                    "the stored order with this number belongs to another client",
                    order.number,
                )
            elif _same(order, found, lines.get(found.id, []), columns):
                outcomes[order.number] = "skip"
            else:
                outcomes[order.number] = "update"
                order.history = _status_change(order, found)
        return outcomes, stored

    @staticmethod
    def _stored_lines(ctx: Context) -> dict[int, list[tuple[int, int, int, int]]]:
        out: dict[int, list[tuple[int, int, int, int]]] = {}
        for order_id, *line in ctx.conn.execute(_STORED_LINES):
            out.setdefault(order_id, []).append(tuple(line))  # type: ignore[arg-type]
        return out


def _lines(columns: Columns, order: _Order) -> list[tuple[int, int, int, int, int]]:
    return [
        (columns.rows[index].number, product, quantity, price, cost)
        for index, product, quantity, price, cost in order.stored
    ]


def _staged(ctx: Context, row: int, order: _Order) -> tuple[Any, ...]:
    h = order.head
    return (
        row,
        order.number,
        h["client_id"],
        h["phone"],
        h["email"],
        False,
        h["owner"],
        h["source"],
        None,
        h["utm_source"],
        h["utm_campaign"],
        order.status.value,
        h["currency"],
        order.total,
        order.cost_total,
        _stored_time(ctx, h["ordered_at"]),
        _stored_time(ctx, h["paid_at"]) if h["paid_at"] is not None else None,
        "create",
        None,
        h["deal"],
        None,
    )


def _same(
    order: _Order, stored: Any, lines: list[tuple[int, int, int, int]], columns: Columns
) -> bool:
    """Whether the file says what is stored (owner and channel only when the file names them)."""
    h = order.head
    wanted = [(p, q, u, c) for _, p, q, u, c in _lines(columns, order)]
    return (
        stored.status == order.status.value
        and stored.currency == h["currency"]
        and stored.paid_at == h["paid_at"]
        and lines == wanted
        and h["owner"] in (None, stored.owner_id)
        and h["source"] in (None, stored.channel_id)
        and (h["utm_campaign"] is None or stored.campaign_id is not None)
        and stored.row_deal_id in (None, stored.deal_id)
    )


def _status_change(order: _Order, stored: Any) -> list[tuple[S | None, S, datetime]]:
    """An updated order's one appended change, when its status changed: at the file's moment
    of the new status, but never before the stored history's last change."""
    if stored.status == order.status.value:
        return []
    at = order.history[-1][2] if order.history else stored.last_change
    if stored.last_change is not None and at < stored.last_change:
        at = stored.last_change
    return [(S(stored.status), order.status, at)]


def _sample(
    rows: list[SourceRow], columns: Columns, orders: dict[str, _Order], outcomes: dict[str, str]
) -> list[dict[str, Any]]:
    """The first rows' outcomes with their order number (no personal values)."""
    number_of = {i: o.number for o in orders.values() for i in o.indices}
    sample = []
    for i, row in enumerate(rows[:SAMPLE_ROWS]):
        number = number_of.get(i)
        outcome = "error" if columns.failed(i) else outcomes.get(number or "", "error")
        sample.append({"row": row.number, "outcome": outcome, "order": number})
    return sample
