"""Products in bulk, matched by SKU: new ones inserted, known ones skipped or updated.

Prices are exact amounts (at most two decimals) stored in minor units; a group named in the
file is created when the workspace has none of that name. ``on_duplicate=update`` rewrites
name, group, prices, currency and unit of a known SKU and bumps its version, like an edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, text

from voronka.config import get_settings
from voronka.db.types import UTCDateTime, to_minor
from voronka.transfer import cells
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context, prepared_of
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.staging import Encoded, Stage
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
        ("price_minor", "int"),
        ("cost_price_minor", "int"),
        ("currency", "text"),
        ("unit", "text"),
    ),
    indexed=False,
)
_GROUPS = text(
    """INSERT INTO product_group (workspace_id, name, created_at, updated_at, version)
       SELECT DISTINCT :ws, s.group_name, :now, :now, 1 FROM import_stage_product s
       WHERE s.group_name IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM product_group g WHERE g.workspace_id = :ws AND g.name = s.group_name)"""
).bindparams(bindparam("now", type_=UTCDateTime()))
# each staged row with its group (created above when new) and the stored product of its SKU
_MATCHED = """SELECT s.row_no, s.sku, s.name, s.price_minor, s.cost_price_minor, s.currency,
      s.unit, g.id AS group_id, p.id AS existing_id
    FROM import_stage_product s
    LEFT JOIN product_group g ON g.workspace_id = :ws AND g.name = s.group_name
    LEFT JOIN product p ON p.workspace_id = :ws AND p.sku = s.sku"""
#: the columns of ``product`` the statements look stored rows up by (``Context.wrote_into``)
_LOOKED_UP = ("workspace_id", "sku")
_INSERT = """INSERT INTO product (workspace_id, sku, name, group_id, price_minor,
         cost_price_minor, currency, unit, is_active, created_at, updated_at, version)
       SELECT :ws, sku, name, group_id, price_minor, cost_price_minor, currency, unit, true,
         :now, :now, 1
       FROM m WHERE existing_id IS NULL ORDER BY row_no"""
_EXISTING = "SELECT row_no, existing_id FROM m WHERE existing_id IS NOT NULL"
_UPDATE = text(
    f"""UPDATE product SET
         name = s.name, group_id = coalesce(s.group_id, product.group_id),
         price_minor = s.price_minor, cost_price_minor = s.cost_price_minor,
         currency = s.currency, unit = s.unit, updated_at = :now, version = product.version + 1
       FROM ({_MATCHED}) AS s
       WHERE s.existing_id = product.id AND (
         product.name <> s.name OR product.price_minor <> s.price_minor
         OR product.cost_price_minor <> s.cost_price_minor OR product.currency <> s.currency
         OR product.unit <> s.unit
         OR coalesce(s.group_id, product.group_id, 0) <> coalesce(product.group_id, 0))"""  # noqa: S608
).bindparams(bindparam("now", type_=UTCDateTime()))


@dataclass
class _Prepared:
    columns: Columns
    kept: list[tuple[Any, ...]]
    encoded: Encoded | None  # ``kept`` as PostgreSQL's COPY reads it


class ProductLoader:
    """Bulk writer of product rows (the catalogue)."""

    resource = "product"

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        return [rows]

    def prepare_ahead(self, mapping: ColumnMapping) -> bool:
        return True  # prepare reads nothing from the database

    def prepare(self, ctx: Context, rows: list[SourceRow]) -> _Prepared:
        """Parse and check the batch; a SKU repeated in it is an error of the later row."""
        columns = Columns(rows, ctx.mapping)
        staged = self._parse(columns)
        first: dict[str, int] = {}
        kept: list[tuple[Any, ...]] = []
        index_of = {number: i for i, number in enumerate(columns.numbers)}
        for values in staged:
            sku = values[1]
            if sku in first:
                columns.fail(
                    index_of[values[0]],
                    "sku",
                    f"the same SKU is on row {first[sku]} of the file",
                    sku,
                )
                continue
            first[sku] = values[0]
            kept.append(values)
        return _Prepared(columns, kept, None if ctx.sqlite else STAGE.encode(kept))

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult:
        ready = prepared_of(rows) or self.prepare(ctx, rows)
        columns = ready.columns
        STAGE.reset(ctx.conn)
        STAGE.load(ctx.conn, ready.kept, ready.encoded, analyzed=ctx.staged_shapes)
        params = {"ws": ctx.actor.workspace_id, "now": ctx.now}
        ctx.conn.execute(_GROUPS, params)
        matched = f"WITH m AS ({_MATCHED})"
        if ctx.sqlite:  # no INSERT inside WITH: the matching is run twice
            found = ctx.conn.execute(text(f"{matched} {_EXISTING}"), params).all()
            ctx.conn.execute(
                text(f"{matched} {_INSERT}").bindparams(bindparam("now", type_=UTCDateTime())),
                params,
            )
        else:
            found = ctx.conn.execute(
                text(f"{matched}, written AS ({_INSERT}) {_EXISTING}").bindparams(
                    bindparam("now", type_=UTCDateTime())
                ),
                params,
            ).all()
        existing: dict[int, int] = dict(found)  # type: ignore[arg-type]
        ctx.wrote_into("product", _LOOKED_UP)
        result = BatchResult(rows=len(columns))
        result.created = len(ready.kept) - len(existing)
        if ctx.on_duplicate is OnDuplicate.UPDATE and existing:
            result.updated = ctx.conn.execute(_UPDATE, params).rowcount
        result.duplicates = len(existing) - result.updated
        result.errors = {columns.numbers[i]: e for i, e in columns.errors.items()}
        result.sample = [
            {
                "row": n,
                "outcome": "error"
                if n in result.errors
                else "existing"
                if n in existing
                else "create",
                **({"product_id": existing[n]} if n in existing else {}),
            }
            for n in columns.numbers[:SAMPLE_ROWS]
        ]
        return result

    def _parse(self, columns: Columns) -> list[tuple[Any, ...]]:
        skus = columns.text("sku", 64, required=True)
        names = columns.text("name", 300, required=True)
        groups = columns.text("group", 200)
        prices = columns.parse("price", cells.amount, once_per_value=True)
        costs = columns.parse("cost_price", cells.amount, once_per_value=True)
        currencies = columns.parse("currency", _currency, once_per_value=True)
        units = columns.text("unit", 16)
        currency = get_settings().default_currency
        staged: list[tuple[Any, ...]] = []
        for i, number in enumerate(columns.numbers):
            if prices[i] is None and not columns.failed(i):
                columns.fail(i, "price", "required")
            for field, amount in (("price", prices[i]), ("cost_price", costs[i])):
                if amount is not None and amount < 0:
                    columns.fail(i, field, "must not be negative", str(amount))
            if columns.failed(i):
                continue
            staged.append(
                (
                    number,
                    skus[i],
                    names[i],
                    groups[i],
                    to_minor(prices[i] or Decimal(0)),
                    to_minor(costs[i] or Decimal(0)),
                    currencies[i] or currency,
                    units[i] or "pcs",
                )
            )
        return staged


def _currency(value: object) -> str:
    code = cells.text(value).upper()  # type: ignore[arg-type]
    if not _CURRENCY.fullmatch(code):
        raise ValueError("currency must be a three-letter ISO code such as RUB")
    return code
