"""Column-wise parsing of a batch: one loop per field, errors kept per row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from voronka.transfer import cells
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.reading import CellValue, RowBatch, SourceRow
from voronka.transfer.report import RowError, shown_value

T = TypeVar("T")
OVERFLOW = "the row has values to the right of the last named column"


class Columns:
    """The mapped fields of a batch of rows, read a field at a time.

    Every parser records a bad cell as a ``RowError`` of its row and gives ``None`` for it;
    ``failed(i)`` says whether row ``i`` of the batch has any error.
    """

    def __init__(self, rows: Sequence[SourceRow], mapping: ColumnMapping) -> None:
        self.rows = rows
        self.batch = RowBatch.of_rows(rows, list(mapping.fields))
        self.numbers = self.batch.numbers
        self.errors: dict[int, list[RowError]] = {}
        self._column_of = {name: column for column, name in mapping.fields.items()}
        for index in sorted(self.batch.overflow):
            self.fail(index, None, OVERFLOW)

    def __len__(self) -> int:
        return len(self.numbers)

    def mapped(self, field: str) -> bool:
        return field in self._column_of

    def raw(self, field: str) -> list[CellValue]:
        column = self._column_of.get(field)
        if column is None:
            return [None] * len(self.numbers)
        return self.batch.column(column)

    def text(self, field: str, max_length: int, *, required: bool = False) -> list[str | None]:
        """Trimmed text (``None`` when blank); longer than ``max_length`` is an error."""
        out: list[str | None] = []
        for index, value in enumerate(self.raw(field)):
            if value.__class__ is str and value[:1] != "'":  # type: ignore[index]
                text = value.strip()  # type: ignore[union-attr]  # cells.text without a prefix
            else:
                text = cells.text(value) if value is not None else ""
            if not text:
                if required:
                    self.fail(index, field, "required")
                out.append(None)
            elif len(text) > max_length:
                self.fail(index, field, f"at most {max_length} characters", text)
                out.append(None)
            else:
                out.append(text)
        return out

    def parse(
        self, field: str, parse: Callable[[CellValue], T], *, once_per_value: bool = False
    ) -> list[T | None]:
        """``parse(cell)`` for every non-blank cell; a ``ValueError`` becomes the row's error.

        ``once_per_value``: the result depends on the text alone and is never changed, so a
        text repeated in the batch (a kind, a count, a phone) is parsed once.
        """
        if field not in self._column_of:
            return [None] * len(self.numbers)
        out: list[T | None] = []
        seen: dict[str, T | _Failed | None] = {}
        for index, value in enumerate(self.raw(field)):
            remembered = once_per_value and value.__class__ is str
            if remembered and value in seen:
                result = seen[value]  # type: ignore[index]
            else:
                result = _parsed(value, parse)
                if remembered:
                    seen[value] = result  # type: ignore[index]
            if result.__class__ is _Failed:
                self.fail(index, field, result.message, value)  # type: ignore[union-attr]
                out.append(None)
            else:
                out.append(result)  # type: ignore[arg-type]
        return out

    def fail(
        self, index: int, field: str | None, message: str, value: CellValue | str = None
    ) -> None:
        column = self._column_of.get(field) if field else None
        shown = cells.text(value) if value is not None else None
        self.errors.setdefault(index, []).append(
            RowError(
                row=self.numbers[index],
                column=column,
                field=field,
                value=shown_value(shown or None),
                message=message,
            )
        )

    def failed(self, index: int) -> bool:
        return index in self.errors


class _Failed:
    """A cell's parse error, kept for the next cell with the same text."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _parsed(value: CellValue, parse: Callable[[CellValue], T]) -> T | _Failed | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse(value)
    except ValueError as exc:
        return _Failed(str(exc))
