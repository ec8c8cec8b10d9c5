"""A saved segment (target list) and its members."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, WorkspaceMixin
from voronka.db.columns import JsonType, enum_column_type, pd
from voronka.db.types import IdType


class SegmentSource(StrEnum):
    BEHAVIOUR = "behaviour"  # a segment of the ``segments`` report (k-means on behaviour)
    RFM = "rfm"  # a named RFM segment of the clients report


class Segment(IdMixin, WorkspaceMixin, TimestampMixin, Base):
    """A target list: the clients of one segment as they were when it was saved.

    ``definition`` keeps how the members were found (the report, its query, the segment), so
    the list can be explained and rebuilt; members do not change when the data does.
    """

    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    description: Mapped[str | None] = mapped_column(Text, info=pd("none"))
    source: Mapped[SegmentSource] = mapped_column(
        enum_column_type(SegmentSource, "segment_source"), info=pd("none"))
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType, info=pd("none"))
    member_count: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="SET NULL"), index=True, info=pd("none"))


class SegmentMember(Base):
    """One client of a saved segment (deleted with the segment, or with the client)."""

    __tablename__ = "segment_member"

    segment_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("segment.id", ondelete="CASCADE"), primary_key=True, info=pd("none"))
    client_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="CASCADE"), primary_key=True, index=True,
        info=pd("none"))
