"""Clients (people and companies), their contact points, tags and consent history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import JsonType, enum_column_type, pd
from voronka.db.types import IdType, UTCDateTime


class ClientKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    MESSENGER = "messenger"


class ConsentPurpose(StrEnum):
    DATA_PROCESSING = "data_processing"
    MARKETING_EMAIL = "marketing_email"
    MARKETING_SMS = "marketing_sms"
    MARKETING_CALLS = "marketing_calls"
    MESSENGER = "messenger"


class ConsentMethod(StrEnum):
    WEB_FORM = "web_form"
    CALL = "call"
    EMAIL = "email"
    PAPER = "paper"
    IMPORT = "import"


class Client(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A person or a company the business sells to.

    A person may belong to a company (``company_id``): that makes them one of the company's
    contact persons. ``search_text`` is a case-folded copy of the name and contact values,
    kept by the service, so that search is case-insensitive in every language on every engine.
    """

    __tablename__ = "client"
    __table_args__ = (
        Index("ix_client_workspace_owner", "workspace_id", "owner_id"),
        Index("ix_client_workspace_created", "workspace_id", "created_at"),
    )

    kind: Mapped[ClientKind] = mapped_column(
        enum_column_type(ClientKind, "client_kind"), info=pd("none")
    )
    name: Mapped[str] = mapped_column(String(300), info=pd("personal"))
    company_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="RESTRICT"), index=True
    )
    job_title: Mapped[str | None] = mapped_column(String(200), info=pd("personal"))
    owner_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    source_channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT"), index=True
    )
    source_campaign_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("campaign.id", ondelete="RESTRICT")
    )
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JsonType, default=dict, info=pd("personal")
    )
    search_text: Mapped[str] = mapped_column(Text, default="", info=pd("personal"))
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="RESTRICT")
    )
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))

    contacts: Mapped[list[ContactPoint]] = relationship(
        back_populates="client", order_by="ContactPoint.id", cascade="all, delete-orphan"
    )
    tags: Mapped[list[ClientTag]] = relationship(
        back_populates="client", order_by="ClientTag.tag", cascade="all, delete-orphan"
    )


class ContactPoint(IdMixin, WorkspaceMixin, Base):
    """A phone (E.164), e-mail (lower-case) or messenger id (``network:handle``) of a client."""

    __tablename__ = "contact_point"
    __table_args__ = (
        Index("ix_contact_point_lookup", "workspace_id", "kind", "value"),
        UniqueConstraint("client_id", "kind", "value"),
    )

    client_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ContactKind] = mapped_column(
        enum_column_type(ContactKind, "contact_kind"), info=pd("none")
    )
    value: Mapped[str] = mapped_column(String(254), info=pd("personal"))
    label: Mapped[str | None] = mapped_column(String(50), info=pd("none"))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))

    client: Mapped[Client] = relationship(back_populates="contacts")


class ClientTag(IdMixin, WorkspaceMixin, Base):
    """A free tag on a client (stored case-folded)."""

    __tablename__ = "client_tag"
    __table_args__ = (
        UniqueConstraint("client_id", "tag"),
        Index("ix_client_tag_lookup", "workspace_id", "tag"),
    )

    client_id: Mapped[int] = mapped_column(IdType, ForeignKey("client.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64), info=pd("none"))

    client: Mapped[Client] = relationship(back_populates="tags")


class ConsentRecord(IdMixin, WorkspaceMixin, Base):
    """One grant or withdrawal of consent; append-only, the current status is the latest."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_client_purpose", "client_id", "purpose", "occurred_at"),)

    client_id: Mapped[int] = mapped_column(IdType, ForeignKey("client.id", ondelete="RESTRICT"))
    purpose: Mapped[ConsentPurpose] = mapped_column(
        enum_column_type(ConsentPurpose, "consent_purpose"), info=pd("none")
    )
    granted: Mapped[bool] = mapped_column(Boolean, info=pd("personal"))
    method: Mapped[ConsentMethod] = mapped_column(
        enum_column_type(ConsentMethod, "consent_method"), info=pd("none")
    )
    text_version: Mapped[str | None] = mapped_column(String(50), info=pd("none"))
    evidence: Mapped[str | None] = mapped_column(Text, info=pd("personal"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("personal"))
    recorded_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
