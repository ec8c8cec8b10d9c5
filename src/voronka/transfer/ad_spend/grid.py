"""A CSV or XLSX report as raw numbered rows (no header assumed: reports have title lines).

The encoding is detected as for imports (UTF-8 with or without BOM, UTF-16 with BOM — the
Google Ads «CSV for Excel» — or Windows-1251); the delimiter is the one among , ; TAB that
gives the most rows of the same width of at least two cells, so title lines above the table
do not mislead it. XLSX files pass the same archive and XML checks as imports.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from voronka.transfer.errors import UnreadableFile
from voronka.transfer.reading import (
    CSV_DELIMITERS,
    NOT_TEXT,
    SNIFF_CHARS,
    CellValue,
    FileFormat,
    ReadLimits,
    check_row_number,
    check_width,
    detect_encoding,
)
from voronka.transfer.xlsx_reading import _guarded, _guarded_sheet, check_archive

Grid = Iterator[tuple[int, list[CellValue]]]


@contextmanager
def open_grid(path: Path, file_format: FileFormat, limits: ReadLimits) -> Iterator[Grid]:
    """Numbered rows (first row = 1) of the file's first table."""
    if file_format is FileFormat.XLSX:
        check_archive(path, limits)
        with _guarded_sheet(path, data_only=True) as sheet:
            yield _guarded(_xlsx_rows(sheet, limits))
        return
    encoding = detect_encoding(path)
    delimiter = _delimiter(path, encoding)
    yield _csv_rows(path, encoding, delimiter, limits)


def _xlsx_rows(sheet: object, limits: ReadLimits) -> Grid:
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
        check_row_number(number, limits)
        check_width(number, len(row), limits)
        yield number, list(row)


def _delimiter(path: Path, encoding: str) -> str:
    try:
        with path.open(encoding=encoding, newline="") as text:
            sample = text.read(SNIFF_CHARS)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(NOT_TEXT) from exc
    best, best_score = ",", 0
    for delimiter in CSV_DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        common = Counter(w for w in widths if w >= 2).most_common(1)
        score = common[0][1] * 1000 + common[0][0] if common else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(path: Path, encoding: str, delimiter: str, limits: ReadLimits) -> Grid:
    number = 0
    try:
        with path.open(encoding=encoding, newline="") as text:
            for number, record in enumerate(csv.reader(text, delimiter=delimiter), start=1):
                check_row_number(number, limits)
                check_width(number, len(record), limits)
                yield number, list(record)
    except csv.Error as exc:
        raise UnreadableFile(f"CSV syntax error after row {number}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise UnreadableFile(NOT_TEXT) from exc
