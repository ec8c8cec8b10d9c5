"""A columnar reader for plain UTF-8 CSV files: the rows ``reading`` gives, at C speed.

Bulk import of a million rows spends more time turning CSV lines into ``{column: value}``
dicts than writing them. Arrow's CSV parser (pyarrow, already a dependency of the analytics
engine) reads a file into columns of strings in C++ and outside the GIL. It is used only
when it provably gives what the ``csv`` module gives:

* the file is UTF-8 (the header names are read and checked by ``reading`` as always);
* every line is exactly one record: the number of line breaks equals the number of records
  Arrow parsed, so no blank line was skipped and no quoted value spans lines, and the row
  number of the i-th record is ``i + 2`` as ``reading`` numbers it;
* every record has the header's width (no short or overflowing rows), with no bare CR.

Anything else returns ``None`` and the file is read by ``reading.open_csv_table``. Rows whose
cells are all blank are skipped but keep their numbers, as there.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import repeat
from pathlib import Path

from voronka.transfer.reading import (
    CHUNK_BYTES,
    ReadLimits,
    RowBatch,
    SourceRow,
    Table,
    check_row_number,
    check_width,
    detect_delimiter,
    detect_encoding,
    header_columns,
)

UTF8 = ("utf-8", "utf-8-sig")
# Arrow's default: the first block is parsed before the first batch can start (twice: when
# counting and when reading), so a bigger one delays every import — 4 MiB cost ~0.1 s of a
# 200,000-row import; a record longer than a block makes Arrow refuse the file, which then
# goes to the ``csv`` module like any other file Arrow cannot read
ARROW_BLOCK_BYTES = 1024 * 1024
# A character that ``str.strip`` keeps: anything but the characters ``str.isspace`` accepts.
_NOT_SPACE = (
    "[^\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}"
    "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"
)


def open_plain_csv(path: Path, limits: ReadLimits) -> Table | None:
    """The file as a columnar ``Table``, or ``None`` when it needs the ``csv`` module."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - pyarrow is a dependency; be safe without it
        return None
    encoding = detect_encoding(path)
    if encoding not in UTF8:
        return None
    delimiter = detect_delimiter(path, encoding)
    with path.open(encoding=encoding, newline="") as text:
        header = next(csv.reader(text, delimiter=delimiter), [])
    if any("\n" in cell or "\r" in cell for cell in header):
        return None
    columns = header_columns(header)
    if len(columns) != len(header):
        return None  # unnamed trailing columns: only the csv path reports their values
    check_width(1, len(header), limits)
    lines = _one_record_per_line(path)
    if lines is None:
        return None
    reader = _ArrowCsv(path, delimiter, columns)
    counted = reader.count(limits)
    if counted is None or counted[0] + 1 != lines:
        return None
    records, blank = counted

    def rows() -> Iterator[SourceRow]:
        for batch in reader.batches(repeat(10_000), 0):
            yield from batch

    return Table(columns, rows(), records - blank, read_batches=reader.batches)


def _one_record_per_line(path: Path) -> int | None:
    """The number of lines, or ``None`` when a CR stands alone (the csv module splits there)."""
    newlines = carriage_returns = pairs = 0
    last = b""
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            newlines += chunk.count(b"\n")
            carriage_returns += chunk.count(b"\r")
            pairs += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            last = chunk[-1:]
    if carriage_returns != pairs:
        return None
    return newlines + (last not in (b"\n", b""))


class _ArrowCsv:
    """Arrow's streaming CSV reader over the data rows, every column read as text."""

    def __init__(self, path: Path, delimiter: str, columns: list[str]) -> None:
        self.path, self.delimiter, self.columns = path, delimiter, columns

    def _stream(self):  # type: ignore[no-untyped-def]
        import pyarrow as pa
        from pyarrow import csv as arrow_csv

        names = [f"c{i}" for i in range(len(self.columns))]
        return arrow_csv.open_csv(
            self.path,
            read_options=arrow_csv.ReadOptions(
                column_names=names, skip_rows=1, block_size=ARROW_BLOCK_BYTES, encoding="utf8"
            ),
            parse_options=arrow_csv.ParseOptions(delimiter=self.delimiter),
            convert_options=arrow_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    def count(self, limits: ReadLimits) -> tuple[int, int] | None:
        """(records, blank records), checking the row limit; ``None`` if Arrow cannot parse."""
        import pyarrow as pa

        records = blank = 0
        try:
            for batch in self._stream():
                records += batch.num_rows
                check_row_number(records + 1, limits)
                blank += len(_blank_positions(batch))
        except pa.ArrowInvalid:
            return None
        return records, blank

    def batches(self, sizes: Iterator[int], after: int) -> Iterator[RowBatch]:
        """Batches of non-blank rows numbered above ``after``, of the sizes ``sizes`` gives.

        Rows stay Arrow columns until their batch is handed out, so a small batch costs
        only its own rows' conversion to Python values, not its whole block's."""
        import pyarrow

        size = next(sizes)
        numbers: list[int] = []
        pending = None  # the rows read but not yet handed out
        first = 2  # the number of the next record
        for batch in self._stream():
            count = batch.num_rows
            skip = max(0, min(count, after + 1 - first))  # records at or before ``after``
            blank = [p for p in _blank_positions(batch) if p >= skip]
            if skip or blank:
                keep = sorted(set(range(skip, count)) - set(blank))
                if len(keep) < count:
                    batch = batch.take(pyarrow.array(keep, type=pyarrow.int64()))
                numbers.extend(first + p for p in keep)
            else:
                numbers.extend(range(first, first + count))
            block = pyarrow.Table.from_batches([batch])
            pending = block if pending is None else pyarrow.concat_tables([pending, block])
            first += count
            while len(numbers) >= size:
                yield self._batch(numbers[:size], pending.slice(0, size))
                numbers, pending = numbers[size:], pending.slice(size)
                size = next(sizes)
        if numbers:
            yield self._batch(numbers, pending)

    def _batch(self, numbers: list[int], rows) -> RowBatch:  # type: ignore[no-untyped-def]
        cells = [column.to_pylist() for column in rows.columns]
        return RowBatch(numbers, dict(zip(self.columns, cells, strict=True)))  # type: ignore[arg-type]


def _blank_positions(batch) -> list[int]:  # type: ignore[no-untyped-def]
    """Positions of the records whose every cell is blank (``str.strip`` leaves nothing).

    Columns are looked at until every record has a filled cell: usually the first one.
    """
    import pyarrow.compute as pc

    filled = None
    for column in batch.columns:
        has_text = pc.match_substring_regex(column, _NOT_SPACE)
        filled = has_text if filled is None else pc.or_(filled, has_text)
        if pc.all(filled).as_py():
            return []
    if filled is None:
        return []
    return pc.indices_nonzero(pc.invert(filled)).to_pylist()
