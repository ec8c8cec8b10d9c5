"""The import report: counts and one entry per problem, as JSON or a downloadable CSV."""

from __future__ import annotations

import csv
import io

from pydantic import BaseModel, Field

from voronka.transfer import formula
from voronka.transfer.mapping import Entity
from voronka.transfer.options import ImportMode, OnDuplicate

MAX_REPORTED_ERRORS = 10_000
MAX_VALUE_CHARS = 100
CSV_COLUMNS = ("row", "column", "field", "value", "message")


class RowError(BaseModel):
    """One problem with one row: where (row number, column, field), the value and why."""

    row: int = Field(description="Row number in the file; the header is row 1.")
    column: str | None = Field(None, description="Column of the file, when one is at fault.")
    field: str | None = Field(None, description="Field the column feeds.")
    value: str | None = Field(None, description=f"The value, cut to {MAX_VALUE_CHARS} characters.")
    message: str


class ImportReport(BaseModel):
    """What an import did, or — for a dry run — what it would do."""

    entity: Entity
    mode: ImportMode
    on_duplicate: OnDuplicate
    dry_run: bool
    committed: bool = Field(
        False,
        description="Whether the changes were kept (false for dry runs and refused atomic imports).",
    )
    total: int = Field(0, description="Data rows read (blank rows are not counted).")
    created: int = 0
    updated: int = 0
    unchanged: int = Field(
        0, description="Duplicates to update whose values were already the same."
    )
    skipped: int = Field(0, description="Duplicates left alone (on_duplicate=skip).")
    failed: int = Field(0, description="Rows with at least one error; ok + failed = total.")
    errors: list[RowError] = Field(default_factory=list)
    errors_truncated: bool = Field(
        False, description=f"Only the first {MAX_REPORTED_ERRORS} errors are listed."
    )
    columns: dict[str, str] = Field(default_factory=dict, description="File column → field.")
    unknown_columns: list[str] = Field(
        default_factory=list,
        description="Columns that match no field; their values are not imported.",
    )
    ignored_columns: list[str] = Field(
        default_factory=list, description="Export-only columns (ids, timestamps) not imported."
    )

    def add_errors(self, errors: list[RowError]) -> None:
        """Count one failed row and keep its errors (up to the limit)."""
        self.failed += 1
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors.extend(errors[: max(room, 0)])
        self.errors_truncated = self.errors_truncated or len(errors) > room


def shown_value(value: object) -> str | None:
    """A value as the report shows it: text, cut to a readable length."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def errors_csv(report: ImportReport) -> str:
    """The report's errors as CSV (values neutralised against formula injection)."""
    return rows_csv(report.errors)


def rows_csv(errors: list[RowError]) -> str:
    """Row errors as CSV: ``row,column,field,value,message``, text cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for error in errors:
        cells = (error.row, error.column or "", error.field or "", error.value or "", error.message)
        writer.writerow([formula.neutralise(c) if isinstance(c, str) else c for c in cells])
    return buffer.getvalue()
