"""Deals and the append-only history of their stage changes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import JsonType, enum_column_type, pd
from voronka.db.types import IdType, Money, UTCDateTime


class DealStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Deal(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A client's inquiry or opportunity moving through a pipeline.

    ``created_at`` is when the lead arrived; ``status`` mirrors the kind of the current stage
    and ``closed_at`` is set when it becomes won or lost. Amounts are exact, in ``currency``.
    """

    __tablename__ = "deal"
    __table_args__ = (
        Index("ix_deal_workspace_created", "workspace_id", "created_at"),
        Index("ix_deal_workspace_owner", "workspace_id", "owner_id"),
        Index("ix_deal_stage", "stage_id"),
        Index("ix_deal_client", "client_id"),
        # an imported deal's id in the system it came from: re-imports find it (NULLs repeat)
        Index("ix_deal_workspace_external", "workspace_id", "external_id", unique=True),
    )

    title: Mapped[str] = mapped_column(String(300), info=pd("none"))
    client_id: Mapped[int] = mapped_column(IdType, ForeignKey("client.id", ondelete="RESTRICT"))
    pipeline_id: Mapped[int] = mapped_column(IdType, ForeignKey("pipeline.id", ondelete="RESTRICT"))
    stage_id: Mapped[int] = mapped_column(IdType, ForeignKey("stage.id", ondelete="RESTRICT"))
    status: Mapped[DealStatus] = mapped_column(
        enum_column_type(DealStatus, "deal_status"), default=DealStatus.OPEN, info=pd("none")
    )
    owner_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    amount: Mapped[Decimal] = mapped_column(
        "amount_minor", Money(), default=Decimal("0"), info=pd("none")
    )
    currency: Mapped[str] = mapped_column(String(3), default="RUB", info=pd("none"))
    channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("campaign.id", ondelete="RESTRICT"), index=True
    )
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    expected_close_on: Mapped[date | None] = mapped_column(Date, info=pd("none"))
    lost_reason: Mapped[str | None] = mapped_column(String(300), info=pd("none"))
    external_id: Mapped[str | None] = mapped_column(String(128), info=pd("none"))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, info=pd("none"))
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))


class DealStageChange(IdMixin, WorkspaceMixin, Base):
    """One move of a deal; the first row of a deal has ``from_stage_id`` NULL (creation)."""

    __tablename__ = "deal_stage_change"
    __table_args__ = (
        Index("ix_deal_stage_change_deal", "deal_id", "changed_at"),
        Index("ix_deal_stage_change_to", "workspace_id", "to_stage_id", "changed_at"),
    )

    deal_id: Mapped[int] = mapped_column(IdType, ForeignKey("deal.id", ondelete="RESTRICT"))
    from_stage_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("stage.id", ondelete="RESTRICT")
    )
    to_stage_id: Mapped[int] = mapped_column(IdType, ForeignKey("stage.id", ondelete="RESTRICT"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    changed_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
