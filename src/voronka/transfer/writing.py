"""Write rows to CSV (RFC 4180, UTF-8 with BOM) or XLSX, safe to open in a spreadsheet.

Every text cell goes through ``formula.neutralise`` (a leading apostrophe when it would read
as a formula); numbers (int, Decimal, float) stay numbers, money exact to the cent;
timestamps are in the workspace's time zone: CSV writes ISO 8601 with the offset
(``2026-03-02T12:00:00+03:00``, fractions of a second only when stored), XLSX a date-time
cell in that zone's wall-clock time (XLSX has no offsets). Every CSV and XLSX file Voronka
writes (exports, page tables, segment members) goes through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from voronka.transfer import formula

CSV_FLUSH_ROWS = 500
XLSX_MAX_TEXT = 32_767  # Excel's limit for one cell
XLSX_MAX_ROWS = 1_048_576  # Excel's rows per sheet, header included


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]], zone: ZoneInfo
) -> Iterator[bytes]:
    """The CSV file in chunks of a few hundred rows (constant memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")  # lets Excel recognise UTF-8
    writer.writerow(header)
    cell = _CsvCells(zone)
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell(value) for value in row])
        if count % CSV_FLUSH_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


class _CsvCells:
    """``csv_cell`` for a whole file, faster: one dict look-up by type instead of a chain of
    ``isinstance`` checks, and the text of recent timestamps remembered (an order's lines
    repeat its times). Values of other types go through ``csv_cell``."""

    MEMO = 4096

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.moments: dict[datetime, str] = {}
        self.by_type: dict[type, Any] = {
            str: formula.neutralise,
            int: _same,
            type(None): _blank,
            Decimal: str,
            datetime: self.moment,
        }

    def __call__(self, value: Any) -> Any:
        convert = self.by_type.get(type(value))
        return convert(value) if convert is not None else csv_cell(value, self.zone)

    def moment(self, value: datetime) -> str:
        text = self.moments.get(value)
        if text is None:
            if len(self.moments) >= self.MEMO:
                self.moments.clear()
            text = self.moments[value] = _local(value, self.zone).isoformat()
        return text


def _same(value: Any) -> Any:
    return value


def _blank(value: None) -> str:
    return ""


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def csv_cell(value: Any, zone: ZoneInfo) -> str | int:
    if isinstance(value, str):  # the common case first
        return formula.neutralise(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # a number, never neutralised into text ("-1.5" stays -1.5)
    if isinstance(value, datetime):
        return _local(value, zone).isoformat()
    return formula.neutralise(str(value))


def write_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    target: BinaryIO,
    zone: ZoneInfo,
    sheet_title: str,
) -> None:
    """Write an XLSX workbook; rows are streamed to disk as they come (openpyxl's write-only
    mode). Past Excel's million rows a sheet, the rows go on in a next sheet ("title 2", …)
    under the same header."""
    workbook = Workbook(write_only=True)
    sheet, used, sheets = None, XLSX_MAX_ROWS, 0
    for row in rows:
        if used == XLSX_MAX_ROWS:
            sheets += 1
            sheet = workbook.create_sheet(_sheet_name(sheet_title, sheets))
            sheet.append(list(header))
            used = 1
        assert sheet is not None
        sheet.append([xlsx_cell(value, zone) for value in row])
        used += 1
    if sheet is None:  # no rows: the header alone
        workbook.create_sheet(_sheet_name(sheet_title, 1)).append(list(header))
    workbook.save(target)


def _sheet_name(title: str, number: int) -> str:
    return title[:31] if number == 1 else f"{title[:27]} {number}"


def xlsx_cell(value: Any, zone: ZoneInfo) -> Any:
    if value is None or isinstance(value, bool | int | Decimal | float):
        return value
    if isinstance(value, datetime):
        return _local(value, zone).replace(tzinfo=None)  # XLSX has no time zones
    # Control characters are not allowed in XLSX XML at all; neutralise first so a value
    # that starts with one still gets its apostrophe.
    text = ILLEGAL_CHARACTERS_RE.sub("", formula.neutralise(str(value)))
    return text[:XLSX_MAX_TEXT]


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)
