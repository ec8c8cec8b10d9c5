"""Saved views: a named set of list filters a user keeps (clients list, pipeline board)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, WorkspaceMixin
from voronka.db.columns import JsonType, pd
from voronka.db.types import IdType


class SavedView(IdMixin, WorkspaceMixin, TimestampMixin, Base):
    """Filters of one screen (``page``) saved under a name by their ``user_id``.

    ``filters`` holds the query-string parameters of the list (names and values only, never
    personal data the filters happen to match); opening the view re-applies them within the
    user's current record scope.
    """

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("user_id", "page", "name"),)

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True, info=pd("none")
    )
    page: Mapped[str] = mapped_column(String(40), info=pd("none"))
    name: Mapped[str] = mapped_column(String(100), info=pd("none"))
    filters: Mapped[dict[str, Any]] = mapped_column(JsonType, info=pd("none"))
