"""Sites with the tracker, their visitors, visits, page views, goals and number reservations.

A *visitor* is one browser (the first-party ``_vrk`` cookie of the site); a *visit* is a run
of activity of a visitor without a pause of ``tracking_visit_idle_minutes`` (30 by default).
When a visit ends it is written once as a ``touchpoint`` (append-only, as analytics read it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import JsonType, pd
from voronka.db.types import IdType, UTCDateTime


class Site(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A web site that runs the tracker; ``site_key`` is its public key in the snippet.

    ``allowed_origins`` lists the origins (``https://shop.example``) whose pages may send
    data; an empty list accepts any origin. ``default_number`` is shown when the dynamic
    number pool is exhausted.
    """

    __tablename__ = "site"

    site_key: Mapped[str] = mapped_column(String(40), unique=True, info=pd("none"))
    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    allowed_origins: Mapped[list[str]] = mapped_column(JsonType, default=list, info=pd("none"))
    default_number: Mapped[str | None] = mapped_column(String(32), info=pd("none"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info=pd("none"))


class SiteVisitor(IdMixin, WorkspaceMixin, Base):
    """One browser seen on a site (its cookie id), linked to a client once known."""

    __tablename__ = "site_visitor"
    __table_args__ = (
        UniqueConstraint("site_id", "visitor_key"),
        Index("ix_site_visitor_client", "client_id"),
    )

    site_id: Mapped[int] = mapped_column(IdType, ForeignKey("site.id", ondelete="RESTRICT"))
    visitor_key: Mapped[str] = mapped_column(String(64), info=pd("personal"))
    client_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="RESTRICT")
    )
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    linked_by: Mapped[str | None] = mapped_column(String(20), info=pd("none"))


class SiteVisit(IdMixin, WorkspaceMixin, Base):
    """A visit: UTM values and referrer of its first page, pages and seconds so far.

    ``ended_at`` is set when the visit is closed (idle for the configured minutes); the
    touchpoint written then is ``touchpoint_id``.
    """

    __tablename__ = "site_visit"
    __table_args__ = (
        Index("ix_site_visit_visitor_activity", "visitor_id", "last_activity_at"),
        Index("ix_site_visit_open", "workspace_id", "ended_at", "last_activity_at"),
    )

    site_id: Mapped[int] = mapped_column(IdType, ForeignKey("site.id", ondelete="RESTRICT"))
    visitor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("site_visitor.id", ondelete="RESTRICT")
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    utm_source: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_medium: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_campaign: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_content: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    utm_term: Mapped[str | None] = mapped_column(String(200), info=pd("none"))
    referrer: Mapped[str | None] = mapped_column(String(1000), info=pd("none"))
    landing_page: Mapped[str | None] = mapped_column(String(1000), info=pd("none"))
    campaign_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("campaign.id", ondelete="RESTRICT")
    )
    channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT")
    )
    pages: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    seconds_on_site: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    touchpoint_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("touchpoint.id", ondelete="RESTRICT")
    )


class SitePageView(IdMixin, WorkspaceMixin, Base):
    """A page shown during a visit; ``view_key`` is the snippet's id of that page load."""

    __tablename__ = "site_page_view"
    __table_args__ = (UniqueConstraint("visit_id", "view_key"),)

    visit_id: Mapped[int] = mapped_column(IdType, ForeignKey("site_visit.id", ondelete="CASCADE"))
    view_key: Mapped[str] = mapped_column(String(32), info=pd("none"))
    url: Mapped[str] = mapped_column(String(1000), info=pd("none"))
    title: Mapped[str | None] = mapped_column(String(300), info=pd("none"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    seconds: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))


class SiteGoal(IdMixin, WorkspaceMixin, Base):
    """A goal reached during a visit (``name`` as the site calls it, e.g. ``cart``)."""

    __tablename__ = "site_goal"
    __table_args__ = (UniqueConstraint("visit_id", "event_key"),)

    visit_id: Mapped[int] = mapped_column(IdType, ForeignKey("site_visit.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(32), info=pd("none"))
    name: Mapped[str] = mapped_column(String(100), info=pd("none"))
    url: Mapped[str | None] = mapped_column(String(1000), info=pd("none"))
    properties: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, info=pd("none"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))


class NumberReservation(IdMixin, WorkspaceMixin, Base):
    """A pool number shown to one visit from ``reserved_at`` until ``held_until``.

    Each activity of the visit moves ``held_until`` to the activity plus the hold time; a
    number is given to another visit only after that. ``tracking_number_id`` is empty when
    the pool was exhausted and the site's default number was shown instead (counted).
    """

    __tablename__ = "number_reservation"
    __table_args__ = (
        Index("ix_number_reservation_number", "tracking_number_id", "held_until"),
        Index("ix_number_reservation_visit", "visit_id", "held_until"),
        Index("ix_number_reservation_site_time", "site_id", "reserved_at"),
    )

    site_id: Mapped[int] = mapped_column(IdType, ForeignKey("site.id", ondelete="RESTRICT"))
    visit_id: Mapped[int] = mapped_column(IdType, ForeignKey("site_visit.id", ondelete="CASCADE"))
    tracking_number_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("tracking_number.id", ondelete="RESTRICT")
    )
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    held_until: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
