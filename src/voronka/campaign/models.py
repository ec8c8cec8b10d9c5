"""Marketing: channels, campaigns with UTM values, daily ad spend, tracking numbers, touchpoints."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import enum_column_type, pd
from voronka.db.types import IdType, Money, UTCDateTime


class ChannelKind(StrEnum):
    PAID_SEARCH = "paid_search"
    PAID_SOCIAL = "paid_social"
    DISPLAY = "display"
    ORGANIC = "organic"
    DIRECT = "direct"
    REFERRAL = "referral"
    EMAIL = "email"
    OFFLINE = "offline"


class TouchpointKind(StrEnum):
    AD_CLICK = "ad_click"
    VISIT = "visit"
    CALL = "call"
    FORM = "form"
    EMAIL_CLICK = "email_click"
    OFFLINE = "offline"


class TrackingKind(StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"


class Channel(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """Where clients come from (Yandex Direct, SEO, referrals, an exhibition…)."""

    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)

    slug: Mapped[str] = mapped_column(String(64), info=pd("none"))
    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    kind: Mapped[ChannelKind] = mapped_column(
        enum_column_type(ChannelKind, "channel_kind"), info=pd("none")
    )
    is_paid: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))


class Campaign(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """An advertising campaign of a channel, recognised by its UTM values."""

    __tablename__ = "campaign"
    __table_args__ = (
        Index("ix_campaign_utm", "workspace_id", "utm_source", "utm_medium", "utm_campaign"),
    )

    channel_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    utm_source: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_medium: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_campaign: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_content: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_term: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    starts_on: Mapped[date | None] = mapped_column(Date, info=pd("none"))
    ends_on: Mapped[date | None] = mapped_column(Date, info=pd("none"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info=pd("none"))


class AdSpend(IdMixin, WorkspaceMixin, Base):
    """Cost, impressions and clicks of a campaign on one day (natural key: campaign + day)."""

    __tablename__ = "ad_spend"
    __table_args__ = (UniqueConstraint("campaign_id", "day"),)

    campaign_id: Mapped[int] = mapped_column(IdType, ForeignKey("campaign.id", ondelete="RESTRICT"))
    day: Mapped[date] = mapped_column(Date, info=pd("none"))
    cost: Mapped[Decimal] = mapped_column("cost_minor", Money(), info=pd("none"))
    currency: Mapped[str] = mapped_column(String(3), default="RUB", info=pd("none"))
    impressions: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    clicks: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    source: Mapped[str | None] = mapped_column(String(64), info=pd("none"))


class TrackingNumber(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A phone number (E.164) that tells which campaign a call came from."""

    __tablename__ = "tracking_number"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)

    number: Mapped[str] = mapped_column(String(32), info=pd("none"))
    kind: Mapped[TrackingKind] = mapped_column(
        enum_column_type(TrackingKind, "tracking_kind"),
        default=TrackingKind.STATIC,
        info=pd("none"),
    )
    channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT")
    )
    campaign_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("campaign.id", ondelete="RESTRICT")
    )
    description: Mapped[str | None] = mapped_column(String(300), info=pd("none"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info=pd("none"))


class Touchpoint(IdMixin, WorkspaceMixin, Base):
    """One contact of a visitor or client with marketing: a click, visit, call, form…

    ``visitor_id`` is the tracker's cookie id; ``client_id`` is filled once the visitor is
    known. Visits carry ``pages`` viewed and ``seconds_on_site``.
    """

    __tablename__ = "touchpoint"
    __table_args__ = (
        Index("ix_touchpoint_client_time", "client_id", "occurred_at"),
        Index("ix_touchpoint_visitor", "workspace_id", "visitor_id"),
        Index("ix_touchpoint_workspace_time", "workspace_id", "occurred_at"),
    )

    visitor_id: Mapped[str | None] = mapped_column(String(64), info=pd("personal"))
    client_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="RESTRICT")
    )
    kind: Mapped[TouchpointKind] = mapped_column(
        enum_column_type(TouchpointKind, "touchpoint_kind"), info=pd("none")
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT")
    )
    campaign_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("campaign.id", ondelete="RESTRICT")
    )
    utm_source: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_medium: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_campaign: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    referrer: Mapped[str | None] = mapped_column(String(1000), info=pd("none"))
    landing_page: Mapped[str | None] = mapped_column(String(1000), info=pd("none"))
    pages: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    seconds_on_site: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
