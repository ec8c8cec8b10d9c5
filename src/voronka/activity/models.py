"""Activities: calls, e-mails, meetings, messages, notes and tasks on one timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import enum_column_type, pd
from voronka.db.types import IdType, UTCDateTime


class ActivityKind(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    MESSAGE = "message"
    NOTE = "note"
    TASK = "task"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallStatus(StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"
    BUSY = "busy"
    FAILED = "failed"


class Activity(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """One interaction or to-do. ``occurred_at`` places it on the timeline.

    Calls carry their timing: ``queued_at`` (rang), ``answered_at``, ``ended_at``;
    ``wait_seconds`` and ``talk_seconds``; ``tracking_number`` is the number the client dialled
    (call tracking). Tasks carry ``due_at``, ``remind_at`` and ``completed_at``.
    ``external_id`` is the provider's id, unique per kind, so redelivered events are no-ops.
    """

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_client_time", "client_id", "occurred_at"),
        Index("ix_activity_workspace_kind_time", "workspace_id", "kind", "occurred_at"),
        Index("ix_activity_owner_due", "owner_id", "due_at"),
        Index("ix_activity_external", "workspace_id", "kind", "external_id", unique=True),
        CheckConstraint("wait_seconds IS NULL OR wait_seconds >= 0", name="wait_nonneg"),
        CheckConstraint("talk_seconds IS NULL OR talk_seconds >= 0", name="talk_nonneg"),
    )

    kind: Mapped[ActivityKind] = mapped_column(
        enum_column_type(ActivityKind, "activity_kind"), info=pd("none")
    )
    client_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="RESTRICT")
    )
    deal_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("deal.id", ondelete="RESTRICT"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    subject: Mapped[str | None] = mapped_column(String(300), info=pd("personal"))
    body: Mapped[str | None] = mapped_column(Text, info=pd("personal"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    external_id: Mapped[str | None] = mapped_column(String(128), info=pd("none"))
    # calls
    direction: Mapped[Direction | None] = mapped_column(
        enum_column_type(Direction, "direction"), info=pd("none")
    )
    from_number: Mapped[str | None] = mapped_column(String(32), info=pd("personal"))
    to_number: Mapped[str | None] = mapped_column(String(32), info=pd("personal"))
    tracking_number: Mapped[str | None] = mapped_column(String(32), info=pd("none"))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    wait_seconds: Mapped[int | None] = mapped_column(Integer, info=pd("none"))
    talk_seconds: Mapped[int | None] = mapped_column(Integer, info=pd("none"))
    call_status: Mapped[CallStatus | None] = mapped_column(
        enum_column_type(CallStatus, "call_status"), info=pd("none")
    )
    recording_url: Mapped[str | None] = mapped_column(String(1000), info=pd("sensitive"))
    # tasks and meetings
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))
