"""Shapes of lead-form settings (API) and of a submission (public endpoint)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from voronka.client.models import ConsentPurpose
from voronka.fields import Strict, Text

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
SubmissionKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{8,100}$")]


class FieldKind(StrEnum):
    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    TEXT = "text"  # free text, kept in the lead's note
    CONSENT = "consent"  # a checkbox: true records consent for ``purpose``


class FormField(Strict):
    name: FieldName
    kind: FieldKind
    required: bool = False
    label: Text | None = Field(None, max_length=200)
    purpose: ConsentPurpose | None = Field(None, description="Consent fields: what is agreed to.")
    max_length: int = Field(2000, ge=1, le=10_000)

    @model_validator(mode="after")
    def _purpose_only_for_consent(self) -> FormField:
        if (self.kind is FieldKind.CONSENT) != (self.purpose is not None):
            raise ValueError("consent fields need a purpose; other fields take none")
        return self


def _check_fields(fields: list[FormField]) -> list[FormField]:
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ValueError("field names must be unique")
    if not any(f.kind in (FieldKind.PHONE, FieldKind.EMAIL) for f in fields):
        raise ValueError("a lead form needs a phone or an e-mail field")
    return fields


class LeadFormCreate(Strict):
    name: Text = Field(min_length=1, max_length=200)
    fields: list[FormField] = Field(min_length=1, max_length=30)
    site_id: int | None = Field(None, description="Site whose visitors fill the form.")
    channel_id: int | None = None
    campaign_id: int | None = None
    pipeline_id: int | None = Field(None, description="Default pipeline when empty.")
    owner_id: int | None = Field(None, description="Owner of new clients and deals.")
    honeypot_field: FieldName = "website"
    min_fill_seconds: int = Field(3, ge=0, le=3600)
    secret: str | None = Field(
        None, min_length=16, max_length=128,
        description="Require HMAC-SHA256 signed submissions (server-to-server forms).",
    )
    consent_text_version: str | None = Field(None, max_length=50)
    is_active: bool = True

    _fields = field_validator("fields")(_check_fields)

    @model_validator(mode="after")
    def _honeypot_apart(self) -> LeadFormCreate:
        if self.honeypot_field in {f.name for f in self.fields}:
            raise ValueError("honeypot_field must not be one of the fields")
        return self


class LeadFormUpdate(Strict):
    name: Text | None = Field(None, min_length=1, max_length=200)
    fields: list[FormField] | None = Field(None, min_length=1, max_length=30)
    site_id: int | None = None
    channel_id: int | None = None
    campaign_id: int | None = None
    pipeline_id: int | None = None
    owner_id: int | None = None
    honeypot_field: FieldName | None = None
    min_fill_seconds: int | None = Field(None, ge=0, le=3600)
    secret: str | None = Field(None, min_length=16, max_length=128)
    consent_text_version: str | None = Field(None, max_length=50)
    is_active: bool | None = None

    @field_validator("fields")
    @classmethod
    def _fields_ok(cls, value: list[FormField] | None) -> list[FormField] | None:
        return None if value is None else _check_fields(value)


class LeadFormOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    form_key: str
    name: str
    fields: list[dict[str, Any]]
    site_id: int | None
    channel_id: int | None
    campaign_id: int | None
    pipeline_id: int | None
    owner_id: int | None
    honeypot_field: str
    min_fill_seconds: int
    signed: bool = Field(description="Whether submissions must be HMAC-signed.")
    consent_text_version: str | None
    is_active: bool
    version: int
    created_at: datetime


class PublicForm(BaseModel):
    """What a page needs to render and submit the form."""

    name: str
    fields: list[dict[str, Any]]
    honeypot: str
    token: str = Field(description="Fill-time token; send it back as `token`.")


class Submission(BaseModel):
    """A submission as a page or a server sends it."""

    model_config = ConfigDict(extra="forbid")

    submission_id: SubmissionKey
    fields: dict[str, str | bool | int | None] = Field(max_length=60)
    token: str | None = Field(None, max_length=200)
    visitor: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")] | None = None
    url: str | None = Field(None, max_length=2000)
    referrer: str | None = Field(None, max_length=2000)


class SubmissionAck(BaseModel):
    status: str = Field(description="`received`: stored and processed (or queued).")
    submission_id: str
    duplicate: bool = Field(description="True when this submission id was received before.")


class SubmissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    form_id: int
    submission_key: str
    received_at: datetime
    status: str
    spam_reason: str | None
    client_id: int | None
    deal_id: int | None
    client_created: bool
