"""Typed values from spreadsheet cells: text, amounts, timestamps and lists.

Each parser raises ``ValueError`` with a message fit for the import report.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from voronka.transfer import formula
from voronka.transfer.reading import CellValue

MAX_AMOUNT = Decimal(10) ** 13
CENT = Decimal("0.01")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DIGIT_GROUPING = re.compile(r"[\s\u00a0\u202f\u2009']")
_LIST_SEPARATORS = re.compile(r"[,;\n]+")
_RUSSIAN_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def text(value: CellValue) -> str:
    """The cell as trimmed text; an apostrophe added against formula injection is removed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return formula.restore(value).strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store 79991234567 as a float
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def amount(value: CellValue) -> Decimal:
    """An exact amount with at most two decimals; ``1 234,50`` and ``1,234.50`` both work."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest decimal that reads back as this float
    else:
        number = _decimal_from_text(text(value))
    if abs(number) >= MAX_AMOUNT:
        raise ValueError(f"amount must be below {MAX_AMOUNT:,}".replace(",", " "))
    if number != number.quantize(CENT):
        raise ValueError("at most two decimal places")
    return number.quantize(CENT)


def _decimal_from_text(raw: str) -> Decimal:
    cleaned = _DIGIT_GROUPING.sub("", raw)
    if "," in cleaned and "." in cleaned:
        decimal_comma = cleaned.rindex(",") > cleaned.rindex(".")
        cleaned = (
            cleaned.replace(".", "").replace(",", ".")
            if decimal_comma
            else cleaned.replace(",", "")
        )
    else:
        cleaned = cleaned.replace(",", ".")
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError("not a number")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise ValueError("not a number") from exc


def moment(value: CellValue, zone: ZoneInfo) -> datetime:
    """An aware UTC timestamp; values without an offset are in the company's time zone."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        parsed = _datetime_from_text(text(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _datetime_from_text(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        pass
    for pattern in _RUSSIAN_FORMATS:
        try:
            return datetime.strptime(raw, pattern)
        except ValueError:
            continue
    raise ValueError("not a date: use YYYY-MM-DD or DD.MM.YYYY, optionally with HH:MM")


def items(value: CellValue) -> list[str]:
    """Several values in one cell, separated by commas, semicolons or line breaks."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text(value)) if part.strip()]
