"""Parse an ad platform's report, match its campaigns, store one row per campaign × day.

Rows of the same campaign and day (a report broken down by ad group, device…) are added
up; the sum replaces what is stored for that campaign and day, so importing the same or an
overlapping report again never doubles spend. A campaign is matched, case-insensitively, by
``utm_campaign`` equal to the report's campaign name, then ``utm_campaign`` equal to the
platform's campaign id (the ``{campaign_id}`` macro), then by the campaign's own name;
rows of campaigns that match none (or several) are reported by row. When any row of a
campaign × day cannot be read, that campaign × day is left as stored (no half-updated day).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.audit import service as audit
from voronka.campaign.models import AdSpend, Campaign
from voronka.config import get_settings
from voronka.errors import ErrorDetail
from voronka.transfer import cells
from voronka.transfer.ad_spend.formats import (
    HEADER_SEARCH_ROWS,
    LAYOUTS,
    REQUIRED,
    AdFormat,
    Layout,
)
from voronka.transfer.ad_spend.grid import open_grid
from voronka.transfer.errors import MappingProblem
from voronka.transfer.mapping import normalise_header
from voronka.transfer.models import ImportRun, RunStatus
from voronka.transfer.options import ImportMode
from voronka.transfer.reading import CellValue, FileFormat, ReadLimits, is_blank
from voronka.transfer.report import MAX_REPORTED_ERRORS, RowError, shown_value

MAX_COST = Decimal(10) ** 13
MAX_COUNT = 10**12
CENT = Decimal("0.01")
_CURRENCY_MARKS = re.compile(r"(?i)[₽$€]|\b(?:руб\.?|р\.|rub|usd|eur)\b")
_GROUPED_INT = re.compile(r"\d{1,3}(?:,\d{3})+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%b %d, %Y", "%d %b %Y",
                 "%B %d, %Y", "%d %B %Y")


@dataclass
class SpendRow:
    number: int
    day: date
    campaign: str
    campaign_id: str | None
    cost: Decimal
    impressions: int
    clicks: int
    currency: str


@dataclass
class Parsed:
    rows: list[SpendRow] = field(default_factory=list)
    errors: dict[int, list[RowError]] = field(default_factory=dict)
    total: int = 0
    #: campaign × day keys with a row that could not be read: left as stored
    poisoned: set[tuple[str, date]] = field(default_factory=set)

    def fail(self, number: int, column: str | None, fld: str | None, message: str,
             value: CellValue = None) -> None:
        shown = cells.text(value) if value is not None else None
        self.errors.setdefault(number, []).append(
            RowError(row=number, column=column, field=fld, value=shown_value(shown or None),
                     message=message)
        )


def import_report(
    session: Session,
    *,
    actor: Actor,
    path: Path,
    file_name: str,
    file_format: FileFormat,
    ad_format: AdFormat,
    mode: ImportMode = ImportMode.PER_ROW,
    dry_run: bool = False,
    currency: str | None = None,
    limits: ReadLimits | None = None,
) -> ImportRun:
    """Import a spend report in the caller's transaction; the run records what happened."""
    parsed = parse(path, file_format, ad_format, currency or get_settings().default_currency,
                   limits or ReadLimits())
    run = ImportRun(
        workspace_id=actor.workspace_id, entity="ad_spend", file_name=file_name[-255:],
        file_format=file_format.value, stored_path=None, status=RunStatus.RUNNING,
        mode=mode.value, dry_run=dry_run, options={"format": ad_format.value}, mapping={},
        errors=[], created_by_id=actor.user_id, total=parsed.total, created=0, updated=0,
        duplicates=0, failed=0, checkpoint_row=1, started_at=clock.now(),
    )
    sums = _sums(parsed)
    matched = _match(session, actor, parsed, sums)
    refused = mode is ImportMode.ATOMIC and bool(parsed.errors)
    savepoint = session.begin_nested()
    created, updated, unchanged = _store(session, actor, ad_format, matched)
    if dry_run or refused:
        savepoint.rollback()
    else:
        savepoint.commit()
    run.created, run.updated, run.duplicates = created, updated, unchanged
    run.failed = len(parsed.errors)
    run.errors = [e.model_dump() for n in sorted(parsed.errors) for e in parsed.errors[n]][
        :MAX_REPORTED_ERRORS
    ]
    run.status = RunStatus.REFUSED if refused else RunStatus.DONE
    run.finished_at = clock.now()
    session.add(run)
    session.flush()
    if not dry_run:
        audit.record(
            session, actor, action="import", entity="ad_spend", row_count=run.total,
            detail={"run_id": run.id, "format": ad_format.value, "mode": mode.value,
                    "status": run.status.value, "created": created, "updated": updated,
                    "unchanged": unchanged, "failed": run.failed},
        )
    return run


# --- parsing ------------------------------------------------------------------------------


def parse(
    path: Path, file_format: FileFormat, ad_format: AdFormat, currency: str, limits: ReadLimits
) -> Parsed:
    """Read the report: find its header, skip titles and totals, parse every data row."""
    layout = LAYOUTS[ad_format]
    parsed = Parsed()
    with open_grid(path, file_format, limits) as grid:
        columns, header_currency, divisor = _header(grid, layout, ad_format)
        for number, record in grid:
            if all(is_blank(c) for c in record) or _is_total(record, layout):
                continue
            parsed.total += 1
            _parse_row(parsed, number, record, columns, header_currency or currency, divisor)
    return parsed


def _header(
    grid: Iterable[tuple[int, list[CellValue]]], layout: Layout, ad_format: AdFormat
) -> tuple[dict[str, tuple[int, str]], str | None, Decimal]:
    """Field → (cell index, header text) from the first row naming the required fields."""
    for number, record in grid:
        found: dict[str, tuple[int, str]] = {}
        currency, divisor = None, Decimal(1)
        for index, cell in enumerate(record):
            if is_blank(cell):
                continue
            key = normalise_header(str(cell))
            for name, spellings in layout.headers.items():
                if key in spellings and name not in found:
                    found[name] = (index, str(cell).strip())
                    if name == "cost":
                        currency = layout.header_currency.get(key)
                        divisor = layout.cost_divisors.get(key, Decimal(1))
        if all(name in found for name in REQUIRED):
            return found, currency, divisor
        if number >= HEADER_SEARCH_ROWS:
            break
    wanted = ", ".join(REQUIRED)
    raise MappingProblem(
        f"no header row with the columns {wanted} in the first {HEADER_SEARCH_ROWS} rows of "
        f"this {ad_format.value} report; check --format or use the generic layout",
        [ErrorDetail("missing header", field=name) for name in REQUIRED],
    )


def _is_total(record: list[CellValue], layout: Layout) -> bool:
    first = next((cells.text(c) for c in record if not is_blank(c)), "")
    key = normalise_header(first)
    return any(key.startswith(marker) for marker in layout.totals)


def _parse_row(
    parsed: Parsed,
    number: int,
    record: list[CellValue],
    columns: dict[str, tuple[int, str]],
    currency: str,
    divisor: Decimal,
) -> None:
    def cell(name: str) -> CellValue:
        index = columns.get(name, (None, ""))[0]
        return record[index] if index is not None and index < len(record) else None

    values: dict[str, Any] = {}
    parsers = {"day": _day, "campaign": _name, "campaign_id": _name, "cost": _cost,
               "impressions": _count, "clicks": _count, "currency": _currency}
    for name, parse_cell in parsers.items():
        raw = cell(name)
        if is_blank(raw):
            if name in REQUIRED:
                parsed.fail(number, columns[name][1], name, "required")
            values[name] = None
            continue
        try:
            values[name] = parse_cell(raw)
        except ValueError as exc:
            parsed.fail(number, columns[name][1], name, str(exc), raw)
            values[name] = None
    if number in parsed.errors:
        if values["day"] is not None and values["campaign"] is not None:
            parsed.poisoned.add((values["campaign"].casefold(), values["day"]))
        return
    cost = (values["cost"] / divisor).quantize(CENT, rounding=ROUND_HALF_EVEN)
    parsed.rows.append(SpendRow(
        number, values["day"], values["campaign"], values["campaign_id"], cost,
        values["impressions"] or 0, values["clicks"] or 0, values["currency"] or currency,
    ))


def _day(value: CellValue) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = cells.text(value)
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    raise ValueError("not a date: use YYYY-MM-DD or DD.MM.YYYY")


def _name(value: CellValue) -> str:
    text = cells.text(value)
    if len(text) > 200:
        raise ValueError("at most 200 characters")
    return text


def _number_text(value: CellValue) -> str:
    return _CURRENCY_MARKS.sub("", cells.text(value)).strip()


def _cost(value: CellValue) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        number = cells._decimal_from_text(_number_text(value))
    if not number.is_finite() or number < 0:
        raise ValueError("spend must be a number of at least 0")
    if number >= MAX_COST:
        raise ValueError(f"spend must be below {MAX_COST:,}".replace(",", " "))
    return number


def _count(value: CellValue) -> int:
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        raw = re.sub(r"[\s\u00a0\u202f]", "", _number_text(value))
        if _GROUPED_INT.fullmatch(raw):
            raw = raw.replace(",", "")
        if not raw.isdigit():
            raise ValueError("not a whole number")
        number = int(raw)
    if number < 0 or number > MAX_COUNT:
        raise ValueError("must be a whole number from 0")
    return number


def _currency(value: CellValue) -> str:
    code = cells.text(value).upper()
    if code in ("РУБ", "РУБ.", "₽"):
        return "RUB"
    if not _CURRENCY.fullmatch(code):
        raise ValueError("currency must be a three-letter ISO code such as RUB")
    return code


# --- matching and storing -----------------------------------------------------------------


@dataclass
class Sum:
    rows: list[int]
    campaign: str
    campaign_id: str | None
    day: date
    cost: Decimal = Decimal(0)
    impressions: int = 0
    clicks: int = 0
    currency: str = ""


def _sums(parsed: Parsed) -> dict[tuple[str, date], Sum]:
    sums: dict[tuple[str, date], Sum] = {}
    for row in parsed.rows:
        key = (row.campaign.casefold(), row.day)
        if key in parsed.poisoned:
            parsed.fail(row.number, None, None,
                        "another row of this campaign and day could not be read; the day "
                        "was left as stored")
            continue
        total = sums.setdefault(key, Sum([], row.campaign, row.campaign_id, row.day,
                                         currency=row.currency))
        if total.currency != row.currency:
            parsed.fail(row.number, None, "currency",
                        f"another row of this campaign and day is in {total.currency}")
            parsed.poisoned.add(key)
            continue
        total.rows.append(row.number)
        total.cost += row.cost
        total.impressions += row.impressions
        total.clicks += row.clicks
    for key in parsed.poisoned:
        for number in sums.pop(key, Sum([], "", None, date.min)).rows:
            if number not in parsed.errors:
                parsed.fail(number, None, None, "another row of this campaign and day failed; "
                            "the day was left as stored")
    return sums


def _match(
    session: Session, actor: Actor, parsed: Parsed, sums: dict[tuple[str, date], Sum]
) -> list[tuple[int, Sum]]:
    """(campaign id, sum) pairs; sums of unknown or ambiguous campaigns become row errors."""
    campaigns = session.execute(
        select(Campaign.id, Campaign.name, Campaign.utm_campaign).where(
            Campaign.workspace_id == actor.workspace_id
        )
    ).all()
    by_utm: dict[str, set[int]] = {}
    by_name: dict[str, set[int]] = {}
    for campaign_id, name, utm in campaigns:
        if utm:
            by_utm.setdefault(utm.casefold(), set()).add(campaign_id)
        by_name.setdefault(name.casefold(), set()).add(campaign_id)
    matched: list[tuple[int, Sum]] = []
    for total in sums.values():
        key = total.campaign.casefold()
        for candidates in (by_utm.get(key), by_utm.get((total.campaign_id or "").casefold()),
                           by_name.get(key)):
            if candidates:
                break
        if candidates and len(candidates) == 1:
            matched.append((next(iter(candidates)), total))
            continue
        message = (
            f"several campaigns match {total.campaign!r} ({', '.join(map(str, sorted(candidates)))})"
            if candidates
            else f"no campaign has utm_campaign or name {total.campaign!r}"
        )
        for number in total.rows:
            parsed.fail(number, None, "campaign", message, total.campaign)
    return matched


def _store(
    session: Session, actor: Actor, ad_format: AdFormat, matched: list[tuple[int, Sum]]
) -> tuple[int, int, int]:
    """Insert or replace each campaign × day; return (created, replaced, unchanged)."""
    if not matched:
        return 0, 0, 0
    campaign_ids = {c for c, _ in matched}
    days = [s.day for _, s in matched]
    stored = {
        (spend.campaign_id, spend.day): spend
        for spend in session.scalars(
            select(AdSpend).where(
                AdSpend.campaign_id.in_(campaign_ids),
                AdSpend.day >= min(days),
                AdSpend.day <= max(days),
            )
        )
    }
    created = updated = unchanged = 0
    for campaign_id, total in matched:
        values = {"cost": total.cost, "impressions": total.impressions, "clicks": total.clicks,
                  "currency": total.currency, "source": ad_format.value}
        spend = stored.get((campaign_id, total.day))
        if spend is None:
            session.add(AdSpend(workspace_id=actor.workspace_id, campaign_id=campaign_id,
                                day=total.day, **values))
            created += 1
        elif all(getattr(spend, k) == v for k, v in values.items()):
            unchanged += 1
        else:
            for name, value in values.items():
                setattr(spend, name, value)
            updated += 1
    session.flush()
    return created, updated, unchanged
