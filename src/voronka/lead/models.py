"""Lead forms of a workspace and the submissions they received."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import JsonType, enum_column_type, pd
from voronka.db.types import IdType, UTCDateTime


class SubmissionStatus(StrEnum):
    ACCEPTED = "accepted"  # a client and a lead deal were made or found
    SPAM = "spam"  # refused by the honeypot or the fill-time check; nothing else stored


class LeadForm(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A form on a site that turns submissions into leads.

    ``fields`` lists the form's fields: ``[{"name", "kind", "required", "label"}]`` with kind
    one of name, phone, email, text, consent. New deals go to ``pipeline_id`` (the default
    pipeline when empty) with the channel and campaign given here unless the visit's UTM
    values name a campaign. ``secret``, when set, is the key of the HMAC-SHA256 signature
    a server-side sender must put in ``X-Voronka-Signature``.
    """

    __tablename__ = "lead_form"

    form_key: Mapped[str] = mapped_column(String(40), unique=True, info=pd("none"))
    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list, info=pd("none"))
    site_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("site.id", ondelete="RESTRICT"))
    channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT")
    )
    campaign_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("campaign.id", ondelete="RESTRICT")
    )
    pipeline_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("pipeline.id", ondelete="RESTRICT")
    )
    owner_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    honeypot_field: Mapped[str] = mapped_column(String(64), default="website", info=pd("none"))
    min_fill_seconds: Mapped[int] = mapped_column(Integer, default=3, info=pd("none"))
    secret: Mapped[str | None] = mapped_column(String(128), info=pd("sensitive"))
    token_key: Mapped[str] = mapped_column(String(64), info=pd("sensitive"))
    consent_text_version: Mapped[str | None] = mapped_column(String(50), info=pd("none"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info=pd("none"))


class FormSubmission(IdMixin, WorkspaceMixin, Base):
    """One submission of a form, kept by its ``submission_key`` so a resend changes nothing."""

    __tablename__ = "form_submission"
    __table_args__ = (
        UniqueConstraint("form_id", "submission_key"),
        Index("ix_form_submission_form_time", "form_id", "received_at"),
    )

    form_id: Mapped[int] = mapped_column(IdType, ForeignKey("lead_form.id", ondelete="RESTRICT"))
    submission_key: Mapped[str] = mapped_column(String(100), info=pd("none"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    status: Mapped[SubmissionStatus] = mapped_column(
        enum_column_type(SubmissionStatus, "submission_status"), info=pd("none")
    )
    spam_reason: Mapped[str | None] = mapped_column(String(100), info=pd("none"))
    visitor_key: Mapped[str | None] = mapped_column(String(64), info=pd("personal"))
    client_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("client.id", ondelete="RESTRICT")
    )
    deal_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("deal.id", ondelete="RESTRICT"))
    client_created: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))
