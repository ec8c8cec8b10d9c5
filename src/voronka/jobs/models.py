"""A background job: one unit of work that runs after the transaction that asked for it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voronka import clock
from voronka.db.base import Base, IdMixin
from voronka.db.columns import JsonType, enum_column_type, pd
from voronka.db.types import IdType, UTCDateTime


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(IdMixin, Base):
    """A queued, running or finished job.

    ``key`` makes enqueueing idempotent: a second job with the same key is not created.
    ``state`` is what the handler saved with its last progress report, so a job that failed
    or whose worker died resumes from there. A running job whose ``lease_until`` has passed
    belongs to a dead worker and is queued again.
    """

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_run_after", "status", "run_after"),)

    workspace_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("workspace.id", ondelete="CASCADE"), info=pd("none")
    )
    kind: Mapped[str] = mapped_column(String(100), info=pd("none"))
    key: Mapped[str | None] = mapped_column(String(200), unique=True, info=pd("none"))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, info=pd("none"))
    status: Mapped[JobStatus] = mapped_column(
        enum_column_type(JobStatus, "job_status"), default=JobStatus.QUEUED, info=pd("none")
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, info=pd("none"))
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="SET NULL"), info=pd("none")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now,
                                                 info=pd("none"))
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now,
                                                info=pd("none"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    worker: Mapped[str | None] = mapped_column(String(100), info=pd("none"))
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0, info=pd("none"))
    progress_total: Mapped[int | None] = mapped_column(BigInteger, info=pd("none"))
    state: Mapped[dict[str, Any] | None] = mapped_column(JsonType, info=pd("none"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType, info=pd("none"))
    error: Mapped[str | None] = mapped_column(Text, info=pd("none"))
