"""Read the first worksheet of an XLSX workbook safely.

* The zip directory is checked first: too many entries or a declared uncompressed size over
  the limit refuse the file before anything is decompressed (Python's zip reader never
  inflates a member past its declared size, so the declaration bounds the work).
* XML is parsed by openpyxl through defusedxml: a DTD with entities (billion laughs,
  external entities) is refused, nothing is fetched.
* Formulas are never evaluated: a formula cell gives the value Excel cached when it last
  saved the file, or the formula text as literal text when there is no cached value. The
  workbook is therefore read twice in step, once for cached values and once for formulas.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.utils.exceptions import InvalidFileException

from voronka.transfer.errors import FileLimitExceeded, UnreadableFile
from voronka.transfer.reading import (
    CellValue,
    ReadLimits,
    SourceRow,
    Table,
    check_row_number,
    check_width,
    header_columns,
    make_row,
)

DAMAGED = "the XLSX file is damaged or is not a workbook"
ENTITIES = "the XLSX file declares XML entities (a DTD), which are refused for safety"
_OPENPYXL_ERRORS = (
    zipfile.BadZipFile,
    InvalidFileException,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    SyntaxError,  # xml.etree.ElementTree.ParseError
    OSError,
)


@contextmanager
def open_workbook_table(path: Path, limits: ReadLimits) -> Iterator[Table]:
    """The first worksheet of ``path`` as a table, after the archive and size checks."""
    if not openpyxl.DEFUSEDXML:
        raise UnreadableFile("XLSX import needs defusedxml enabled (OPENPYXL_DEFUSEDXML)")
    check_archive(path, limits)
    with ExitStack() as stack:
        formulas = stack.enter_context(_guarded_sheet(path, data_only=False))
        cached = stack.enter_context(_guarded_sheet(path, data_only=True))
        declared_rows = _check_declared_size(formulas, limits)
        cached.reset_dimensions()  # both passes must see the same rows and columns
        rows = _guarded(_cell_rows(formulas, cached, limits))
        header = next(rows, None)
        if header is None:
            raise UnreadableFile("the file is empty")
        columns = header_columns(header[1])
        hint = declared_rows - 1 if declared_rows else None
        yield Table(columns, _data_rows(rows, columns), hint)


def check_archive(path: Path, limits: ReadLimits) -> None:
    """Refuse a zip with too many entries or too large a declared uncompressed size."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile("the file is not an XLSX workbook (not a zip archive)") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_zip_entries:
            raise FileLimitExceeded(
                f"the XLSX archive has {len(entries)} entries; the limit is "
                f"{limits.max_zip_entries}"
            )
        declared = sum(entry.file_size for entry in entries)
        if declared > limits.max_uncompressed_bytes:
            raise FileLimitExceeded(
                f"the XLSX file would unpack to {declared} bytes; the limit is "
                f"{limits.max_uncompressed_bytes} bytes"
            )
        if "xl/workbook.xml" not in {entry.filename for entry in entries}:
            raise UnreadableFile(DAMAGED)


@contextmanager
def _guarded_sheet(path: Path, *, data_only: bool) -> Iterator[Any]:
    # Our own handle, closed whatever openpyxl raises half-way through loading.
    with path.open("rb") as handle:
        try:
            workbook = openpyxl.load_workbook(
                handle, read_only=True, data_only=data_only, keep_links=False
            )
        except _OPENPYXL_ERRORS as exc:
            raise _unreadable(exc) from exc
        with closing(workbook):
            yield _first_sheet(workbook)


def _first_sheet(workbook: Any) -> Any:
    if not workbook.worksheets:
        raise UnreadableFile("the workbook has no worksheet")
    return workbook.worksheets[0]


def _check_declared_size(sheet: Any, limits: ReadLimits) -> int | None:
    """Refuse on the sheet's declared dimension (read from its head, not the whole sheet)."""
    declared_rows, declared_columns = sheet.max_row, sheet.max_column
    if declared_rows:
        check_row_number(declared_rows, limits)
    if declared_columns:
        check_width(1, declared_columns, limits)
    # The declaration may understate the real size; read every cell and check as we go.
    sheet.reset_dimensions()
    return declared_rows  # type: ignore[no-any-return]


def _cell_rows(
    formulas: Any, cached: Any, limits: ReadLimits
) -> Iterator[tuple[int, list[CellValue]]]:
    pairs = zip(formulas.iter_rows(), cached.iter_rows(), strict=True)
    for number, (formula_row, cached_row) in enumerate(pairs, start=1):
        check_row_number(number, limits)
        check_width(number, len(formula_row), limits)
        yield number, [_value(f, c) for f, c in zip(formula_row, cached_row, strict=True)]


def _value(formula_cell: Any, cached_cell: Any) -> CellValue:
    if getattr(formula_cell, "data_type", None) != "f":
        return formula_cell.value  # type: ignore[no-any-return]
    if cached_cell.value is not None:
        return cached_cell.value  # type: ignore[no-any-return]
    formula = formula_cell.value
    return str(getattr(formula, "text", None) or formula)


def _guarded(rows: Iterator[tuple[int, list[CellValue]]]) -> Iterator[tuple[int, list[CellValue]]]:
    """Turn openpyxl's parse errors, raised lazily while rows are read, into one clear error."""
    try:
        yield from rows
    except _OPENPYXL_ERRORS as exc:
        raise _unreadable(exc) from exc


def _unreadable(exc: BaseException) -> UnreadableFile:
    """One clear error; openpyxl wraps defusedxml's refusal in a ValueError, so look inside."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return UnreadableFile(ENTITIES)
        cause = cause.__cause__ or cause.__context__
    return UnreadableFile(DAMAGED)


def _data_rows(
    rows: Iterator[tuple[int, list[CellValue]]], columns: list[str]
) -> Iterator[SourceRow]:
    for number, cells in rows:
        row = make_row(number, columns, cells)
        if row is not None:
            yield row
