"""A workspace is one company's isolated set of data; every row belongs to one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from voronka import clock
from voronka.db.base import Base, IdMixin
from voronka.db.columns import pd
from voronka.db.types import UTCDateTime

DEFAULT_WORKSPACE_ID = 1


class Workspace(IdMixin, Base):
    """One company using Voronka: its time zone and currency govern reports."""

    __tablename__ = "workspace"

    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow", info=pd("none"))
    currency: Mapped[str] = mapped_column(String(3), default="RUB", info=pd("none"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
