"""Canonical analytic column types, derived from the ORM metadata.

Every engine sees the same schema: ids and money as BIGINT (money in minor units),
timestamps as naive UTC ``TIMESTAMP``, booleans as BOOLEAN, enums and JSON as text.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Integer, Table
from sqlalchemy.types import TypeDecorator

from voronka.db.models import Base

#: Tables the analytics read (audit, credentials and sessions are never copied).
ANALYTIC_TABLES = (
    "workspace", "team", "user_account", "client", "contact_point", "client_tag",
    "consent_record", "pipeline", "stage", "deal", "deal_stage_change", "activity",
    "product_group", "product", "sales_order", "order_line", "order_status_change",
    "stock_level", "channel", "campaign", "ad_spend", "tracking_number", "touchpoint",
    "ticket", "feedback",
)
#: Columns never copied out of the operational store (secrets).
EXCLUDED_COLUMNS = frozenset({"password_hash"})
#: Append-only tables: a snapshot only adds rows with ids above its watermark.
#: Order statuses that bring revenue (cancelled and returned orders do not).
REVENUE_STATUSES = ("paid", "shipped", "delivered")
APPEND_ONLY = frozenset({"deal_stage_change", "order_status_change", "touchpoint",
                         "consent_record", "ad_spend_history"})


def sql_type(column: Column) -> str:  # type: ignore[type-arg]
    """The DuckDB type a column is cast to in the snapshot."""
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        return "TIMESTAMP"
    if isinstance(kind, Date):
        return "DATE"
    if isinstance(kind, Boolean):
        return "BOOLEAN"
    if isinstance(kind, Integer):  # includes BigInteger and money in minor units
        return "BIGINT"
    return "VARCHAR"


def analytic_columns(table: Table) -> list[Column]:  # type: ignore[type-arg]
    return [c for c in table.columns if c.name not in EXCLUDED_COLUMNS]


def table(name: str) -> Table:
    return Base.metadata.tables[name]
