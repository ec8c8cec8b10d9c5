"""Support tickets and satisfaction feedback (CSAT 1–5, NPS 0–10)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import enum_column_type, pd
from voronka.db.types import IdType, UTCDateTime


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class FeedbackKind(StrEnum):
    CSAT = "csat"
    NPS = "nps"


class Ticket(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A client's support request, optionally about an order."""

    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_client", "client_id", "created_at"),)

    client_id: Mapped[int] = mapped_column(IdType, ForeignKey("client.id", ondelete="RESTRICT"))
    order_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("sales_order.id", ondelete="RESTRICT")
    )
    owner_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    subject: Mapped[str] = mapped_column(String(300), info=pd("personal"))
    body: Mapped[str | None] = mapped_column(Text, info=pd("personal"))
    status: Mapped[TicketStatus] = mapped_column(
        enum_column_type(TicketStatus, "ticket_status"),
        default=TicketStatus.OPEN,
        info=pd("none"),
    )
    priority: Mapped[TicketPriority] = mapped_column(
        enum_column_type(TicketPriority, "ticket_priority"),
        default=TicketPriority.NORMAL,
        info=pd("none"),
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))


class Feedback(IdMixin, WorkspaceMixin, TimestampMixin, Base):
    """A satisfaction answer: CSAT score 1–5 or NPS score 0–10, with optional free text."""

    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_client", "client_id", "created_at"),
        CheckConstraint(
            "(kind = 'csat' AND score BETWEEN 1 AND 5) OR (kind = 'nps' AND score BETWEEN 0 AND 10)",
            name="score_range",
        ),
    )

    client_id: Mapped[int] = mapped_column(IdType, ForeignKey("client.id", ondelete="RESTRICT"))
    order_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("sales_order.id", ondelete="RESTRICT")
    )
    ticket_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("ticket.id", ondelete="RESTRICT")
    )
    kind: Mapped[FeedbackKind] = mapped_column(
        enum_column_type(FeedbackKind, "feedback_kind"), info=pd("none")
    )
    score: Mapped[int] = mapped_column(Integer, info=pd("none"))
    comment: Mapped[str | None] = mapped_column(Text, info=pd("personal"))
