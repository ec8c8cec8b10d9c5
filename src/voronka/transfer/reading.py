"""Read a CSV or XLSX file as numbered rows of ``{column name: value}``.

Row numbers are 1-based positions as a spreadsheet shows them: the header is row 1 and the
first data row is row 2 (a quoted CSV value spanning several lines is still one row). Blank
rows are skipped but keep their number, so a report's row number always points at the right
line of the file. Limits are checked before the rows are read, so a hostile file is refused
without being unpacked or parsed whole.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from itertools import repeat
from pathlib import Path

from voronka.errors import ErrorDetail
from voronka.transfer.errors import FileLimitExceeded, UnreadableFile

CellValue = str | int | float | Decimal | datetime | date | time | bool | None

CSV_DELIMITERS = (",", ";", "\t")
SNIFF_CHARS = 64 * 1024
CHUNK_BYTES = 1024 * 1024
NOT_TEXT = "the file is neither UTF-8 nor Windows-1251 text"


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


FORMAT_BY_SUFFIX = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".xlsx": FileFormat.XLSX,
}


@dataclass(frozen=True)
class ReadLimits:
    """Largest file a read accepts; each limit is named in the error that enforces it."""

    max_rows: int = 200_000
    max_columns: int = 200
    max_uncompressed_bytes: int = 256 * 1024 * 1024
    max_zip_entries: int = 1_000


@dataclass(frozen=True)
class SourceRow:
    """One data row: its number in the file (header = 1) and its values by column name.

    ``overflow`` is set when the row has values to the right of the last named column.
    """

    number: int
    values: dict[str, CellValue]
    overflow: bool = False


class RowBatch(Sequence[SourceRow]):
    """Consecutive data rows held column by column: what bulk import reads and validates.

    It is also a sequence of ``SourceRow`` (built on demand), so code written for rows works
    unchanged; column-wise code reads ``numbers`` and ``column(name)`` without building any.
    """

    def __init__(
        self,
        numbers: list[int],
        columns: dict[str, list[CellValue]],
        overflow: frozenset[int] = frozenset(),
    ) -> None:
        self.numbers = numbers
        self.columns = columns
        self.overflow = overflow  # positions of rows with values right of the last column

    @classmethod
    def of_rows(cls, rows: Sequence[SourceRow], columns: Sequence[str]) -> RowBatch:
        if isinstance(rows, RowBatch):
            return rows
        return cls(
            [row.number for row in rows],
            {name: [row.values.get(name) for row in rows] for name in columns},
            frozenset(i for i, row in enumerate(rows) if row.overflow),
        )

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            return self.take(range(len(self.numbers))[index])
        values = {name: column[index] for name, column in self.columns.items()}
        position = index if index >= 0 else len(self.numbers) + index
        return SourceRow(self.numbers[index], values, position in self.overflow)

    def column(self, name: str) -> list[CellValue]:
        """The column's cells (``None`` for every row when the file has no such column)."""
        found = self.columns.get(name)
        return found if found is not None else [None] * len(self.numbers)

    def take(self, positions: Iterable[int]) -> RowBatch:
        """The rows at ``positions``, in that order."""
        chosen = list(positions)
        kept = {old: new for new, old in enumerate(chosen) if old in self.overflow}
        return RowBatch(
            [self.numbers[i] for i in chosen],
            {name: [column[i] for i in chosen] for name, column in self.columns.items()},
            frozenset(kept.values()),
        )


@dataclass
class Table:
    """The column names of a file and an iterator over its data rows.

    ``batches`` gives the same rows as ``RowBatch`` es; a columnar reader sets
    ``read_batches`` to produce them without building a ``SourceRow`` per row.
    """

    columns: list[str]
    rows: Iterator[SourceRow]
    row_count_hint: int | None = None
    read_batches: Callable[[Iterator[int], int], Iterator[RowBatch]] | None = field(default=None)

    def batches(self, size: int | Iterator[int], after: int = 0) -> Iterator[RowBatch]:
        """Batches of at most ``size`` rows (or of the sizes ``size`` gives one after the
        other), from the first row numbered above ``after``."""
        sizes = batch_sizes(size)
        if self.read_batches is not None:
            yield from self.read_batches(sizes, after)
            return
        batch: list[SourceRow] = []
        want = next(sizes)
        for row in self.rows:
            if row.number <= after:
                continue
            batch.append(row)
            if len(batch) == want:
                yield RowBatch.of_rows(batch, self.columns)
                batch, want = [], next(sizes)
        if batch:
            yield RowBatch.of_rows(batch, self.columns)


def batch_sizes(size: int | Iterator[int]) -> Iterator[int]:
    """``size`` again and again, or the sizes it gives."""
    return repeat(size) if isinstance(size, int) else size


def format_of(filename: str) -> FileFormat:
    """The file format from a file name's extension, or ``UnreadableFile`` naming it."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls":
        raise UnreadableFile("old .xls workbooks are not supported: save the file as .xlsx or CSV")
    if suffix not in FORMAT_BY_SUFFIX:
        shown = suffix or "(none)"
        raise UnreadableFile(f"unsupported file type {shown}: use .csv or .xlsx")
    return FORMAT_BY_SUFFIX[suffix]


@contextmanager
def open_table(
    path: Path,
    file_format: FileFormat,
    limits: ReadLimits | None = None,
    *,
    columnar: bool = False,
) -> Iterator[Table]:
    """Open ``path`` as a table; files are closed when the block ends.

    ``columnar`` lets a plain UTF-8 CSV file be read by the columnar reader
    (``voronka.transfer.columnar``), which gives exactly the same rows, numbers and errors
    (any file it cannot vouch for is read by the ``csv`` module as always).
    """
    limits = limits or ReadLimits()
    if file_format is FileFormat.XLSX:
        from voronka.transfer.xlsx_reading import open_workbook_table

        with open_workbook_table(path, limits) as table:
            yield table
        return
    if columnar:
        from voronka.transfer.columnar import open_plain_csv

        columns_table = open_plain_csv(path, limits)
        if columns_table is not None:
            yield columns_table
            return
    yield open_csv_table(path, limits)


def is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def header_columns(cells: Sequence[CellValue]) -> list[str]:
    """Column names from the header cells: trimmed; unnamed middle columns get a placeholder."""
    names = [str(c).strip().lstrip("\ufeff") if not is_blank(c) else "" for c in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise UnreadableFile("row 1 must hold the column names, and it is empty")
    columns = [name or f"(column {index})" for index, name in enumerate(names, start=1)]
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise UnreadableFile(
                f"column {name!r} appears twice in the header",
                [ErrorDetail("duplicate column", field=name, row=1)],
            )
        seen.add(name)
    return columns


def make_row(number: int, columns: list[str], cells: Sequence[CellValue]) -> SourceRow | None:
    """A ``SourceRow`` from a row's cells, or ``None`` for a blank row."""
    if all(is_blank(c) for c in cells):
        return None
    padded = list(cells[: len(columns)]) + [None] * (len(columns) - len(cells))
    overflow = any(not is_blank(c) for c in cells[len(columns) :])
    return SourceRow(number, dict(zip(columns, padded, strict=True)), overflow)


def check_width(number: int, width: int, limits: ReadLimits) -> None:
    if width > limits.max_columns:
        raise FileLimitExceeded(
            f"row {number} has {width} columns; the limit is {limits.max_columns} columns"
        )


def check_row_number(number: int, limits: ReadLimits) -> None:
    if number > limits.max_rows + 1:
        raise FileLimitExceeded(
            f"the file has more than {limits.max_rows} data rows, the limit for one import"
        )


# --- CSV --------------------------------------------------------------------------------------


def open_csv_table(path: Path, limits: ReadLimits) -> Table:
    """Detect encoding and delimiter, check the limits in a first pass, then read lazily."""
    encoding = detect_encoding(path)
    delimiter = detect_delimiter(path, encoding)
    data_rows = _prescan_csv(path, encoding, delimiter, limits)
    with path.open(encoding=encoding, newline="") as text:
        header = next(csv.reader(text, delimiter=delimiter), [])
    columns = header_columns(header)
    return Table(columns, _csv_rows(path, encoding, delimiter, columns), data_rows)


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; otherwise Windows-1251."""
    with path.open("rb") as stream:
        head = stream.read(4)
        if not head:
            raise UnreadableFile("the file is empty")
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        stream.seek(0)
        return "utf-8" if _is_utf8_text(stream) else "cp1251"


def _is_utf8_text(stream: io.BufferedReader) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    while chunk := stream.read(CHUNK_BYTES):
        if b"\x00" in chunk:
            raise UnreadableFile("the file is binary, not CSV text")
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_delimiter(path: Path, encoding: str) -> str:
    """The delimiter among , ; TAB that splits the first rows most consistently."""
    try:
        with path.open(encoding=encoding, newline="") as text:
            sample = text.read(SNIFF_CHARS)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(NOT_TEXT) from exc
    if len(sample) == SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best, best_score = ",", (0, 0, 0)
    for delimiter in CSV_DELIMITERS:
        widths = _sample_widths(sample, delimiter)
        if not widths or widths[0] < 2:
            continue
        score = (1, sum(w == widths[0] for w in widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_widths(sample: str, delimiter: str) -> list[int]:
    widths: list[int] = []
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    try:
        for record in reader:
            widths.append(len(record))
            if len(widths) >= 50:
                break
    except csv.Error:
        pass  # a sample cut inside a quoted value: judge on the rows read so far
    return widths


def _prescan_csv(path: Path, encoding: str, delimiter: str, limits: ReadLimits) -> int:
    data_rows = 0
    for number, record in _numbered_records(path, encoding, delimiter):
        check_row_number(number, limits)
        check_width(number, len(record), limits)
        if number > 1 and any(cell.strip() for cell in record):
            data_rows += 1
    return data_rows


def _csv_rows(path: Path, encoding: str, delimiter: str, columns: list[str]) -> Iterator[SourceRow]:
    for number, record in _numbered_records(path, encoding, delimiter):
        if number == 1:
            continue
        row = make_row(number, columns, record)
        if row is not None:
            yield row


def _numbered_records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    number = 0
    try:
        with path.open(encoding=encoding, newline="") as text:
            for number, record in enumerate(csv.reader(text, delimiter=delimiter), start=1):
                yield number, record
    except csv.Error as exc:
        raise UnreadableFile(f"CSV syntax error after row {number}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise UnreadableFile(NOT_TEXT) from exc
