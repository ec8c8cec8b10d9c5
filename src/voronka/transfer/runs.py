"""Import runs and saved mappings: create, list, read (repository and service in one place).

A run is visible to the user who started it and to administrators (the ``import_run``
policy: ``own`` or ``all``); its error report holds values from the file, so nobody else
may read it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.errors import Conflict, ErrorDetail, InvalidInput
from voronka.transfer.mapping import FIELDS, Entity
from voronka.transfer.models import ImportRun, RunStatus, SavedMapping
from voronka.transfer.options import ImportMode, OnDuplicate
from voronka.transfer.reading import FileFormat
from voronka.transfer.report import RowError

#: Rows per batch of a bulk run that names no size, per store (measured on 200,000
#: touchpoints: PostgreSQL's per-batch costs — a commit, statistics, round trips — fade by
#: 10,000–20,000 rows; SQLite is fastest near 10,000; docs/benchmarks.md)
DEFAULT_BULK_BATCH = {"postgresql": 20_000, "sqlite": 10_000}
FALLBACK_BULK_BATCH = 5_000


#: The smallest first batch of a run that names no size (``bulk_batch_sizes``)
RAMP_FLOOR = 1_000


def bulk_batch_size(options: Mapping[str, Any], dialect: str) -> int:
    """The batch size a run asked for, else the default of the store it writes to."""
    size = options.get("batch_size")
    return int(size) if size else DEFAULT_BULK_BATCH.get(dialect, FALLBACK_BULK_BATCH)


def bulk_batch_sizes(options: Mapping[str, Any], dialect: str) -> Iterator[int]:
    """The sizes of a run's batches, one after the other: the size it asked for, every time;
    without one, the store's default after a ramp of an eighth, a quarter and a half of it
    (none below ``RAMP_FLOOR``). The database then starts on a small first batch while the
    reading thread prepares the next, instead of waiting, idle, until a whole batch of
    20,000 rows has been read and prepared (docs/benchmarks.md)."""
    size = bulk_batch_size(options, dialect)
    if not options.get("batch_size"):
        yield from (part for part in (size // 8, size // 4, size // 2) if part >= RAMP_FLOOR)
    yield from repeat(size)


#: Bulk imports that rewrite a matched record on ``on_duplicate=update``
UPDATABLE = frozenset({Entity.PRODUCTS, Entity.ORDERS})
#: Bulk imports whose records have a unique key, so a duplicate cannot be created
KEYED = {Entity.PRODUCTS: "a SKU", Entity.ORDERS: "an order number",
         Entity.DEALS: "a deal's external id"}


class RunOut(BaseModel):
    """An import run as the API and CLI show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    file_name: str
    file_format: str
    status: RunStatus
    mode: str
    dry_run: bool
    total: int = Field(description="Rows read so far (blank rows are not counted).")
    created: int
    updated: int
    duplicates: int = Field(description="Rows matching a stored record or an earlier row.")
    failed: int = Field(description="Rows with at least one error.")
    checkpoint_row: int = Field(description="Last row (header = 1) whose batch is committed.")
    rows_hint: int | None = Field(None, description="Data rows in the file, when known.")
    message: str | None = None
    created_by_id: int | None
    created_at: Any
    started_at: Any | None
    finished_at: Any | None


class RunDetail(RunOut):
    errors: list[RowError] = Field(default_factory=list)
    sample: list[dict[str, Any]] = Field(
        default_factory=list, description="The first rows' outcomes (no values from the file)."
    )
    columns: dict[str, str] = Field(default_factory=dict, description="File column → field.")
    unknown_columns: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, run: ImportRun) -> RunDetail:
        detail = cls.model_validate(run)
        detail.sample = list(run.options.get("sample", []))
        detail.columns = dict(run.mapping.get("columns", {}))
        detail.unknown_columns = list(run.mapping.get("unknown", []))
        return detail


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    entity: Entity
    columns: dict[str, str] = Field(description="File column → field.", min_length=1)


class MappingOut(MappingIn):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: int


def create_run(
    session: Session,
    *,
    actor: Actor,
    entity: Entity,
    file_name: str,
    file_format: FileFormat,
    stored_path: Path,
    mode: ImportMode,
    dry_run: bool,
    on_duplicate: OnDuplicate = OnDuplicate.SKIP,
    explicit_mapping: Mapping[str, str] | None = None,
    batch_size: int | None = None,
    default_owner_email: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ImportRun:
    """Record a queued run; ``execute`` (or the job) does the work (``batch_size``: rows
    per batch, by default the store's ``DEFAULT_BULK_BATCH``)."""
    if on_duplicate is OnDuplicate.UPDATE and entity not in UPDATABLE:
        raise InvalidInput(
            "bulk imports skip or create duplicates; use the row-by-row import to update",
            [ErrorDetail("skip or create", field="on_duplicate")],
        )
    if on_duplicate is OnDuplicate.CREATE and entity in KEYED:
        raise InvalidInput(
            f"{KEYED[entity]} is unique: {entity.value} are skipped"
            + (" or updated" if entity in UPDATABLE else ""),
            [ErrorDetail("skip or update" if entity in UPDATABLE else "skip",
                         field="on_duplicate")],
        )
    if batch_size is not None and batch_size < 1:
        raise InvalidInput("batch size must be at least 1", [ErrorDetail(">= 1", "batch_size")])
    run = ImportRun(
        workspace_id=actor.workspace_id,
        entity=entity.value,
        file_name=file_name[-255:],
        file_format=file_format.value,
        stored_path=str(stored_path),
        status=RunStatus.QUEUED,
        mode=mode.value,
        dry_run=dry_run,
        options={
            "on_duplicate": on_duplicate.value,
            "batch_size": batch_size,
            "default_owner_email": default_owner_email,
            "explicit_mapping": dict(explicit_mapping or {}),
            **(extra or {}),
        },
        mapping={},
        errors=[],
        created_by_id=actor.user_id,
        total=0,
        created=0,
        updated=0,
        duplicates=0,
        failed=0,
        checkpoint_row=1,
    )
    session.add(run)
    session.flush()
    return run


def visible_runs(actor: Actor, scope: Scope) -> Select[Any]:
    query = select(ImportRun).where(ImportRun.workspace_id == actor.workspace_id)
    if scope is not Scope.ALL:
        query = query.where(ImportRun.created_by_id == actor.user_id)
    return query


def list_runs(
    session: Session, *, actor: Actor, scope: Scope, limit: int = 50, offset: int = 0
) -> tuple[list[ImportRun], int]:
    from sqlalchemy import func

    query = visible_runs(actor, scope)
    total = session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    page = session.scalars(query.order_by(ImportRun.id.desc()).limit(limit).offset(offset))
    return list(page), total


def get_run(session: Session, *, actor: Actor, scope: Scope, run_id: int) -> ImportRun | None:
    return session.scalars(visible_runs(actor, scope).where(ImportRun.id == run_id)).first()


def save_mapping(session: Session, *, actor: Actor, data: MappingIn) -> SavedMapping:
    """Save a named mapping; every field must be one the entity imports."""
    known = {spec.name for spec in FIELDS[data.entity] if spec.importable}
    unknown = sorted(set(data.columns.values()) - known)
    if unknown:
        raise InvalidInput(
            f"{data.entity.value} have no field {unknown[0]!r} (fields: {', '.join(sorted(known))})",
            [ErrorDetail("no such field", field=name) for name in unknown],
        )
    saved = SavedMapping(
        workspace_id=actor.workspace_id,
        entity=data.entity.value,
        name=data.name,
        columns=dict(data.columns),
        created_by_id=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(saved)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"a mapping named {data.name!r} exists for {data.entity.value}",
            [ErrorDetail("taken", field="name")],
        ) from exc
    return saved


def list_mappings(session: Session, *, actor: Actor) -> Sequence[SavedMapping]:
    return session.scalars(
        select(SavedMapping)
        .where(SavedMapping.workspace_id == actor.workspace_id)
        .order_by(SavedMapping.entity, SavedMapping.name)
    ).all()


def mapping_named(session: Session, *, actor: Actor, entity: Entity, name: str) -> dict[str, str]:
    """The columns of the saved mapping ``name``, or ``InvalidInput`` naming it."""
    saved = session.scalars(
        select(SavedMapping).where(
            SavedMapping.workspace_id == actor.workspace_id,
            SavedMapping.entity == entity.value,
            SavedMapping.name == name,
        )
    ).first()
    if saved is None:
        raise InvalidInput(
            f"no saved mapping {name!r} for {entity.value}",
            [ErrorDetail("unknown mapping", field="mapping")],
        )
    return dict(saved.columns)
