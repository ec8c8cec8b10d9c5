"""Reading typed fields from one source row, with one report entry per bad cell."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.errors import VoronkaError
from voronka.transfer import cells
from voronka.transfer.lookups import Lookups
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.options import OnDuplicate
from voronka.transfer.reading import CellValue, SourceRow, is_blank
from voronka.transfer.report import RowError, shown_value

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


class RowFailure(Exception):
    """A row cannot be written; carries the report entries saying why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].message if errors else "row failed")
        self.errors = errors


class RowReader:
    """Typed access to the mapped fields of one row; bad cells become ``errors``."""

    def __init__(self, row: SourceRow, mapping: ColumnMapping) -> None:
        self.row = row
        self.errors: list[RowError] = []
        self._column_of = {name: column for column, name in mapping.fields.items()}

    @property
    def number(self) -> int:
        return self.row.number

    def raw(self, field: str) -> CellValue:
        column = self._column_of.get(field)
        return None if column is None else self.row.values.get(column)

    def has(self, field: str) -> bool:
        """Whether the field's column is mapped and non-blank in this row."""
        return not is_blank(self.raw(field))

    def get(self, field: str, parse: Callable[[CellValue], T]) -> T | None:
        """The parsed value, ``None`` when blank; a parse error is recorded, not raised."""
        if not self.has(field):
            return None
        try:
            return parse(self.raw(field))
        except ValueError as exc:
            self.fail(field, str(exc))
            return None

    def text(self, field: str, max_length: int) -> str | None:
        return self.get(field, lambda value: bounded_text(value, max_length))

    def error(self, field: str | None, message: str, value: CellValue = None) -> RowError:
        """A report entry about ``field`` (its cell's value unless ``value`` is given)."""
        column = self._column_of.get(field) if field else None
        shown = value if value is not None else (self.raw(field) if field else None)
        return RowError(
            row=self.number,
            column=column,
            field=field,
            value=shown_value(cells.text(shown) or None),
            message=message,
        )

    def fail(self, field: str | None, message: str, value: CellValue = None) -> None:
        self.errors.append(self.error(field, message, value))

    def failure(self, field: str | None, message: str, value: CellValue = None) -> RowFailure:
        return RowFailure([self.error(field, message, value)])


def bounded_text(value: CellValue, max_length: int) -> str:
    text = cells.text(value)
    if len(text) > max_length:
        raise ValueError(f"at most {max_length} characters")
    return text


class RowHandler:
    """What client and deal imports share: context, reference prefetch, error translation.

    Subclasses define ``prepare(reader)`` (parse, resolve references; no writes) and
    ``apply(prepared) -> Outcome`` (write through the domain service, or raise).
    """

    entity = ""
    #: API field names of the domain's errors → the import field they stand for
    api_fields: dict[str, str] = {}

    def __init__(
        self,
        session: Session,
        actor: Actor,
        scope: Scope,
        lookups: Lookups,
        on_duplicate: OnDuplicate,
        default_owner_id: int | None,
    ) -> None:
        self.session, self.actor, self.scope, self.lookups = session, actor, scope, lookups
        self.on_duplicate, self.default_owner_id = on_duplicate, default_owner_id

    def prepare(self, reader: RowReader) -> Any:
        raise NotImplementedError

    def apply(self, prepared: Any) -> Outcome:
        raise NotImplementedError

    def prefetch(self, readers: list[RowReader]) -> None:
        """Load the owners and channels a batch names."""
        self.lookups.prefetch(
            [cells.text(r.raw("owner")) for r in readers if r.has("owner")],
            [cells.text(r.raw("source")) for r in readers if r.has("source")],
        )

    def errors_from(self, reader: RowReader, exc: VoronkaError) -> list[RowError]:
        """Report entries for a domain error, naming import fields instead of API fields."""
        if not exc.details:
            return [reader.error(None, exc.message)]
        return [reader.error(self.field_of(d.field, d.message), d.message) for d in exc.details]

    def validated(self, model: type[ModelT], reader: RowReader, values: dict[str, Any]) -> ModelT:
        """``model`` built from ``values``; validation problems become a ``RowFailure``."""
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            raise RowFailure(
                [
                    reader.error(self.field_of(str(e["loc"][0]), e["msg"]), e["msg"])
                    for e in exc.errors()
                ]
            ) from exc

    def field_of(self, api_field: str | None, message: str) -> str | None:
        if api_field is None:
            return None
        root = api_field.split(".", 1)[0]
        return self.api_fields.get(root, root)
