"""Employees, their teams and roles, sign-in sessions and machine tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import enum_column_type, pd
from voronka.db.types import IdType, UTCDateTime


class Role(StrEnum):
    """What a user may do; the record scope of each role is in ``voronka.access.policy``."""

    ADMIN = "admin"
    HEAD_OF_SALES = "head_of_sales"
    SALES_MANAGER = "sales_manager"
    MARKETER = "marketer"
    ANALYST = "analyst"


class Team(IdMixin, WorkspaceMixin, TimestampMixin, Base):
    """A sales team; a head of sales sees the records owned by the team's members."""

    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200), info=pd("none"))


class User(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """An employee who signs in; ``role`` and ``team_id`` decide what they see."""

    __tablename__ = "user_account"

    email: Mapped[str] = mapped_column(String(254), unique=True, info=pd("personal"))
    name: Mapped[str] = mapped_column(String(200), info=pd("personal"))
    password_hash: Mapped[str | None] = mapped_column(String(255), info=pd("sensitive"))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "role"), info=pd("none"))
    team_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("team.id", ondelete="RESTRICT"), index=True, info=pd("none")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info=pd("none"))
    language: Mapped[str] = mapped_column(String(5), default="ru", info=pd("none"))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("personal"))


class UserSession(IdMixin, Base):
    """A sign-in session of a person; only the SHA-256 of its secret is stored."""

    __tablename__ = "user_session"

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, info=pd("sensitive"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    ip: Mapped[str | None] = mapped_column(String(45), info=pd("personal"))


class ApiToken(IdMixin, WorkspaceMixin, Base):
    """A machine credential acting as its user; ``read_only`` tokens cannot write."""

    __tablename__ = "api_token"

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), info=pd("none"))
    prefix: Mapped[str] = mapped_column(String(12), info=pd("none"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, info=pd("sensitive"))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
