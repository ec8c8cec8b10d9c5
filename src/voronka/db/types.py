"""Column types shared by every model.

* ``UTCDateTime``: aware UTC datetimes in and out; naive values are refused so that no
  local time is ever stored by mistake. PostgreSQL stores ``timestamptz``; SQLite stores
  ISO text in UTC.
* ``Money``: exact ``Decimal`` in Python, stored as a whole number of minor units
  (kopecks, cents) in a BIGINT column, so sums are exact on every engine, including the
  analytics engines that read the tables directly. Money columns are named ``*_minor``
  in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

MINOR_UNITS = Decimal(100)
CENT = Decimal("0.01")

#: Primary keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text written by bulk loaders
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_minor(amount: Decimal | int | str) -> int:
    """Return the number of minor units in ``amount`` (rounded half-even to a cent)."""
    return int(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_EVEN) * MINOR_UNITS)


def from_minor(minor: int) -> Decimal:
    """Return the decimal amount of ``minor`` units."""
    return (Decimal(minor) / MINOR_UNITS).quantize(CENT)


class Money(TypeDecorator[Decimal]):
    """An exact amount of money with two decimals, stored as minor units."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_minor(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_minor(int(value))
