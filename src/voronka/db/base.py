"""Declarative base with a naming convention and the mixins every table uses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from voronka import clock
from voronka.db.types import IdType, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model. Column ``info["pd"]`` classifies personal data."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)


class WorkspaceMixin:
    """Every row belongs to one workspace; the default install has one (id 1)."""

    @declared_attr
    def workspace_id(cls) -> Mapped[int]:
        return mapped_column(
            IdType, ForeignKey("workspace.id", ondelete="RESTRICT"), index=True, nullable=False
        )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now, nullable=False
    )


class VersionedMixin:
    """Optimistic concurrency: every UPDATE checks and bumps ``version``."""

    version: Mapped[int] = mapped_column(nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:
        return {"version_id_col": cls.version}  # type: ignore[attr-defined]


#: Personal-data classification written into ``Column.info``; a test walks the metadata.
PD_NONE = {"pd": "none"}
PD_PERSONAL = {"pd": "personal"}
PD_SENSITIVE = {"pd": "sensitive"}
