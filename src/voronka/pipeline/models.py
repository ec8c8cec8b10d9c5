"""Sales pipelines and their ordered stages."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import enum_column_type, pd
from voronka.db.types import IdType


class StageKind(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Pipeline(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A sequence of stages deals move through.

    ``strict_order``: forward moves may not skip an open stage (closing as won or lost is
    always allowed from any open stage).
    """

    __tablename__ = "pipeline"

    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    position: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))
    strict_order: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))

    stages: Mapped[list[Stage]] = relationship(back_populates="pipeline", order_by="Stage.position")


class Stage(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A step of a pipeline; ``probability`` (0–100) is the default chance to win from here."""

    __tablename__ = "stage"
    __table_args__ = (
        Index("ix_stage_pipeline_position", "pipeline_id", "position"),
        CheckConstraint("probability >= 0 AND probability <= 100", name="probability_range"),
    )

    pipeline_id: Mapped[int] = mapped_column(IdType, ForeignKey("pipeline.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    position: Mapped[int] = mapped_column(Integer, info=pd("none"))
    kind: Mapped[StageKind] = mapped_column(
        enum_column_type(StageKind, "stage_kind"), default=StageKind.OPEN, info=pd("none")
    )
    probability: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")
