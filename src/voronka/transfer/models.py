"""Import runs (one row per bulk import, with its counts and checkpoint) and saved mappings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka import clock
from voronka.db.base import Base, IdMixin, WorkspaceMixin
from voronka.db.columns import JsonType, enum_column_type, pd
from voronka.db.types import IdType, UTCDateTime


class RunStatus(StrEnum):
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # being read; per-row runs commit batches as they go
    DONE = "done"  # every row read; the counts are final
    REFUSED = "refused"  # atomic run with bad rows: nothing was written
    FAILED = "failed"  # stopped by an error; a per-row run resumes from ``checkpoint_row``


class ImportRun(IdMixin, WorkspaceMixin, Base):
    """One bulk import of a file: what was asked, how far it got, what it did.

    ``checkpoint_row`` is the number (in the file, header = 1) of the last row whose batch
    is committed, written in the same transaction as that batch: a per-row run resumed
    after a crash continues after it, and the counts never include rows of a batch that was
    rolled back. ``errors`` holds the first problems (row, column, field, value, message);
    the values come from the file, so the column is personal data.
    """

    __tablename__ = "import_run"
    __table_args__ = (Index("ix_import_run_workspace_created", "workspace_id", "created_at"),)

    entity: Mapped[str] = mapped_column(String(32), info=pd("none"))
    file_name: Mapped[str] = mapped_column(String(255), info=pd("none"))
    file_format: Mapped[str] = mapped_column(String(8), info=pd("none"))
    stored_path: Mapped[str | None] = mapped_column(String(1000), info=pd("none"))
    status: Mapped[RunStatus] = mapped_column(
        enum_column_type(RunStatus, "import_run_status"),
        default=RunStatus.QUEUED,
        info=pd("none"),
    )
    mode: Mapped[str] = mapped_column(String(16), info=pd("none"))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))
    options: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, info=pd("none"))
    mapping: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, info=pd("none"))
    rows_hint: Mapped[int | None] = mapped_column(BigInteger, info=pd("none"))
    total: Mapped[int] = mapped_column(BigInteger, default=0, info=pd("none"))
    created: Mapped[int] = mapped_column(BigInteger, default=0, info=pd("none"))
    updated: Mapped[int] = mapped_column(BigInteger, default=0, info=pd("none"))
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0, info=pd("none"))
    failed: Mapped[int] = mapped_column(BigInteger, default=0, info=pd("none"))
    checkpoint_row: Mapped[int] = mapped_column(BigInteger, default=1, info=pd("none"))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(
        JsonType, default=list, info=pd("personal")
    )
    message: Mapped[str | None] = mapped_column(Text, info=pd("none"))
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT"), info=pd("none")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, info=pd("none"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))


class SavedMapping(IdMixin, WorkspaceMixin, Base):
    """A named ``file column → field`` mapping of one entity, reusable by later imports."""

    __tablename__ = "import_mapping"
    __table_args__ = (UniqueConstraint("workspace_id", "entity", "name"),)

    entity: Mapped[str] = mapped_column(String(32), info=pd("none"))
    name: Mapped[str] = mapped_column(String(100), info=pd("none"))
    columns: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict, info=pd("none"))
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT"), info=pd("none")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, info=pd("none"))
