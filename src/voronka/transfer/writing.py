"""Write rows to CSV (RFC 4180, UTF-8 with BOM) or XLSX, safe to open in a spreadsheet.

Text cells are neutralised against formula injection (``formula.neutralise``); numbers stay
numbers; timestamps are written in the company's time zone, to the second (CSV: ISO 8601
with the offset; XLSX: a date-time cell).
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


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]], zone: ZoneInfo
) -> Iterator[bytes]:
    """The CSV file in chunks of a few hundred rows (constant memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")  # lets Excel recognise UTF-8
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(value, zone) for value in row])
        if count % CSV_FLUSH_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def csv_cell(value: Any, zone: ZoneInfo) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return str(value)
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
    """Write an XLSX workbook with one sheet; rows are streamed to disk as they come."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(list(header))
    for row in rows:
        sheet.append([xlsx_cell(value, zone) for value in row])
    workbook.save(target)


def xlsx_cell(value: Any, zone: ZoneInfo) -> Any:
    if value is None or isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, datetime):
        return _local(value, zone).replace(tzinfo=None)  # XLSX has no time zones
    # Control characters are not allowed in XLSX XML at all; neutralise first so a value
    # that starts with one still gets its apostrophe.
    text = ILLEGAL_CHARACTERS_RE.sub("", formula.neutralise(str(value)))
    return text[:XLSX_MAX_TEXT]


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(microsecond=0)
