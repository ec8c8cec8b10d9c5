"""The audit trail: who read or changed what personal data, when. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, WorkspaceMixin
from voronka.db.columns import JsonType, pd
from voronka.db.types import IdType, UTCDateTime


class AuditEvent(IdMixin, WorkspaceMixin, Base):
    """One read, change, export or sign-in.

    ``changes`` maps a field to ``[old, new]``; for personal-data fields the values are
    replaced by ``"<changed>"`` so the audit log itself holds no personal data.
    ``detail`` holds the filter of a list or export and similar context.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity", "entity_id", "occurred_at"),
        Index("ix_audit_event_actor", "actor_id", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    actor_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    actor_kind: Mapped[str] = mapped_column(String(16), info=pd("none"))
    action: Mapped[str] = mapped_column(String(32), info=pd("none"))
    entity: Mapped[str] = mapped_column(String(64), info=pd("none"))
    entity_id: Mapped[int | None] = mapped_column(IdType, info=pd("none"))
    row_count: Mapped[int | None] = mapped_column(Integer, info=pd("none"))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JsonType, info=pd("none"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JsonType, info=pd("none"))
    request_id: Mapped[str | None] = mapped_column(String(64), info=pd("none"))
    ip: Mapped[str | None] = mapped_column(String(45), info=pd("personal"))
