"""Products in bulk, matched by SKU: new ones inserted, known ones skipped or updated.

Prices are exact amounts (at most two decimals) stored in minor units; a group named in the
file is created when the workspace has none of that name. ``on_duplicate=update`` rewrites
name, group, prices, currency and unit of a known SKU and bumps its version, like an edit.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, text

from voronka.config import get_settings
from voronka.db.types import UTCDateTime, to_minor
from voronka.transfer import cells
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.staging import Stage
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.options import OnDuplicate
from voronka.transfer.reading import SourceRow

_CURRENCY = re.compile(r"[A-Z]{3}")
STAGE = Stage(
    "import_stage_product",
    (
        ("row_no", "int"),
        ("sku", "text"),
        ("name", "text"),
        ("group_name", "text"),
        ("group_id", "id"),
        ("price_minor", "int"),
        ("cost_price_minor", "int"),
        ("currency", "text"),
        ("unit", "text"),
        ("existing_id", "id"),
    ),
)
_GROUPS = text(
    """INSERT INTO product_group (workspace_id, name, created_at, updated_at, version)
       SELECT DISTINCT :ws, s.group_name, :now, :now, 1 FROM import_stage_product s
       WHERE s.group_name IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM product_group g WHERE g.workspace_id = :ws AND g.name = s.group_name)"""
).bindparams(bindparam("now", type_=UTCDateTime()))
_MATCH = [
    """UPDATE import_stage_product SET group_id = (
         SELECT g.id FROM product_group g
         WHERE g.workspace_id = :ws AND g.name = import_stage_product.group_name)
       WHERE group_name IS NOT NULL""",
    """UPDATE import_stage_product SET existing_id = (
         SELECT p.id FROM product p
         WHERE p.workspace_id = :ws AND p.sku = import_stage_product.sku)""",
]
_INSERT = text(
    """INSERT INTO product (workspace_id, sku, name, group_id, price_minor, cost_price_minor,
         currency, unit, is_active, created_at, updated_at, version)
       SELECT :ws, sku, name, group_id, price_minor, cost_price_minor, currency, unit, true,
         :now, :now, 1
       FROM import_stage_product WHERE existing_id IS NULL ORDER BY row_no"""
).bindparams(bindparam("now", type_=UTCDateTime()))
_UPDATE = text(
    """UPDATE product SET
         name = s.name, group_id = coalesce(s.group_id, product.group_id),
         price_minor = s.price_minor, cost_price_minor = s.cost_price_minor,
         currency = s.currency, unit = s.unit, updated_at = :now, version = product.version + 1
       FROM import_stage_product AS s
       WHERE s.existing_id = product.id AND (
         product.name <> s.name OR product.price_minor <> s.price_minor
         OR product.cost_price_minor <> s.cost_price_minor OR product.currency <> s.currency
         OR product.unit <> s.unit
         OR coalesce(s.group_id, product.group_id, 0) <> coalesce(product.group_id, 0))"""
).bindparams(bindparam("now", type_=UTCDateTime()))


class ProductLoader:
    """Bulk writer of product rows (the catalogue)."""

    resource = "product"

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        return [rows]

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult:
        columns = Columns(rows, ctx.mapping)
        staged = self._prepare(ctx, columns)
        result = BatchResult(rows=len(rows))
        first: dict[str, int] = {}
        kept: list[tuple[Any, ...]] = []
        for values in staged:
            sku = values[1]
            if sku in first:
                columns.fail(_index(rows, values[0]), "sku",
                             f"the same SKU is on row {first[sku]} of the file", sku)
                continue
            first[sku] = values[0]
            kept.append(values)
        STAGE.reset(ctx.conn)
        STAGE.load(ctx.conn, kept)
        params = {"ws": ctx.actor.workspace_id, "now": ctx.now}
        ctx.conn.execute(_GROUPS, params)
        for statement in _MATCH:
            ctx.conn.execute(text(statement), params)
        existing: dict[int, int] = dict(ctx.conn.execute(text(
            "SELECT row_no, existing_id FROM import_stage_product WHERE existing_id IS NOT NULL"
        )).all())
        result.created = ctx.conn.execute(_INSERT, params).rowcount
        if ctx.on_duplicate is OnDuplicate.UPDATE and existing:
            result.updated = ctx.conn.execute(_UPDATE, params).rowcount
        result.duplicates = len(existing) - result.updated
        result.errors = {rows[i].number: e for i, e in columns.errors.items()}
        result.sample = [
            {"row": r.number, "outcome": "error" if r.number in result.errors
             else "existing" if r.number in existing else "create",
             **({"product_id": existing[r.number]} if r.number in existing else {})}
            for r in rows[:SAMPLE_ROWS]
        ]
        return result

    def _prepare(self, ctx: Context, columns: Columns) -> list[tuple[Any, ...]]:
        skus = columns.text("sku", 64, required=True)
        names = columns.text("name", 300, required=True)
        groups = columns.text("group", 200)
        prices = columns.parse("price", cells.amount)
        costs = columns.parse("cost_price", cells.amount)
        currencies = columns.parse("currency", _currency)
        units = columns.text("unit", 16)
        currency = get_settings().default_currency
        staged: list[tuple[Any, ...]] = []
        for i, row in enumerate(columns.rows):
            if prices[i] is None and not columns.failed(i):
                columns.fail(i, "price", "required")
            for field, amount in (("price", prices[i]), ("cost_price", costs[i])):
                if amount is not None and amount < 0:
                    columns.fail(i, field, "must not be negative", str(amount))
            if columns.failed(i):
                continue
            staged.append((row.number, skus[i], names[i], groups[i], None,
                           to_minor(prices[i] or Decimal(0)), to_minor(costs[i] or Decimal(0)),
                           currencies[i] or currency, units[i] or "pcs", None))
        return staged


def _index(rows: list[SourceRow], number: int) -> int:
    return next(i for i, row in enumerate(rows) if row.number == number)


def _currency(value: object) -> str:
    code = cells.text(value).upper()  # type: ignore[arg-type]
    if not _CURRENCY.fullmatch(code):
        raise ValueError("currency must be a three-letter ISO code such as RUB")
    return code
