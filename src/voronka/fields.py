"""Field types shared by the API schemas of every domain.

* ``Strict``: input models refuse unknown fields (no mass assignment) and trim strings.
* ``MoneyIn`` / ``MoneyOut``: exact decimals; in from a JSON string or number (not negative,
  at most two decimals), out as a string with two decimals.
* ``CurrencyCode``: ISO 4217, upper case.
* ``AwareUTC``: a timestamp with its offset (naive input is a 422 naming the field), in UTC.
* ``Text``: free text without NUL characters (PostgreSQL cannot store them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from voronka.db.types import CENT

#: Largest amount accepted or computed: well inside a BIGINT of minor units.
MAX_MONEY = Decimal("10") ** 13
MAX_CUSTOM_FIELDS = 50


class Strict(BaseModel):
    """Input models refuse unknown fields (no mass assignment) and trim strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


MoneyIn = Annotated[
    Decimal,
    Field(
        ge=0,
        lt=MAX_MONEY,
        max_digits=15,
        decimal_places=2,
        description="Exact amount as a decimal string, at most two decimals, not negative.",
    ),
]
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value.quantize(CENT)), return_type=str, when_used="json"),
]
CurrencyCode = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code in upper case, e.g. RUB.")
]


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+03:00 has no UTC equivalent
        raise ValueError("datetime out of range") from exc


def _without_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL text can't hold NUL; refuse it on every engine alike
        raise ValueError("must not contain NUL characters")
    return value


AwareUTC = Annotated[
    AwareDatetime,
    AfterValidator(_as_utc),
    Field(description="An ISO 8601 timestamp with its offset; naive times are refused."),
]
Text = Annotated[str, AfterValidator(_without_nul)]


def check_custom_fields(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Custom fields: at most 50, keys ≤ 64 characters, scalar values ≤ 1000 characters."""
    if value is None:
        return value
    if len(value) > MAX_CUSTOM_FIELDS:
        raise ValueError(f"at most {MAX_CUSTOM_FIELDS} custom fields")
    for key, item in value.items():
        if len(key) > 64 or not isinstance(item, str | int | float | bool | type(None)):
            raise ValueError(f"custom field {key[:64]!r}: keys ≤ 64 chars, values scalar")
        if isinstance(item, str) and (len(item) > 1000 or "\x00" in item):
            raise ValueError(f"custom field {key!r}: at most 1000 characters, no NUL")
    return value
