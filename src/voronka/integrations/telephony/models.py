"""Telephony state: one row per provider call, and the extension → manager map."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, WorkspaceMixin
from voronka.db.columns import pd
from voronka.db.types import IdType, UTCDateTime


class CallPhase(IntEnum):
    """How far a call has got; events of an earlier phase never undo a later one."""

    STARTED = 1
    ANSWERED = 2
    ENDED = 3


class TelephonyCall(IdMixin, WorkspaceMixin, TimestampMixin, Base):
    """A call as the telephony provider reported it, linked to the CRM rows it produced.

    The activity (kind ``call``) is what people see on the timeline; this row keeps what
    call tracking needs: the tracking number dialled and its campaign, whether the call
    was *unique* (no call from the same number in the preceding ``call_unique_days``), the
    touchpoint written for attribution, and the phase reached so far (``phase``, see
    :class:`CallPhase`) so that events arriving out of order never move a call backwards.
    ``caller`` is the client's number (E.164) whichever way the call went; ``reservation``
    is the dynamic-number reservation (visitor) the call was matched to.
    """

    __tablename__ = "telephony_call"
    __table_args__ = (
        UniqueConstraint("workspace_id", "provider", "provider_call_id"),
        Index("ix_telephony_call_caller_time", "workspace_id", "caller", "started_at"),
    )

    provider: Mapped[str] = mapped_column(String(32), info=pd("none"))
    provider_call_id: Mapped[str] = mapped_column(String(128), info=pd("none"))
    activity_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("activity.id", ondelete="RESTRICT"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="RESTRICT"), index=True
    )
    deal_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("deal.id", ondelete="RESTRICT"))
    touchpoint_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("touchpoint.id", ondelete="RESTRICT")
    )
    tracking_number_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("tracking_number.id", ondelete="RESTRICT")
    )
    channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT")
    )
    campaign_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("campaign.id", ondelete="RESTRICT")
    )
    user_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    caller: Mapped[str | None] = mapped_column(String(32), info=pd("personal"))
    is_inbound: Mapped[bool] = mapped_column(Boolean, info=pd("none"))
    manager_extension: Mapped[str | None] = mapped_column(String(32), info=pd("none"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    phase: Mapped[int] = mapped_column(Integer, info=pd("none"))
    is_unique: Mapped[bool] = mapped_column(Boolean, info=pd("none"))
    created_client: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))
    reservation: Mapped[str | None] = mapped_column(String(200), info=pd("personal"))


class TelephonyExtension(IdMixin, WorkspaceMixin, TimestampMixin, Base):
    """An internal extension (SIP line) of the PBX and the manager who answers on it."""

    __tablename__ = "telephony_extension"
    __table_args__ = (UniqueConstraint("workspace_id", "extension"),)

    extension: Mapped[str] = mapped_column(String(32), info=pd("none"))
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
