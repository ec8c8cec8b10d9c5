"""API shapes for clients, contact points, consent and the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voronka.client.models import ClientKind, ConsentMethod, ConsentPurpose, ContactKind
from voronka.fields import AwareUTC, Strict, Text, check_custom_fields


class ContactIn(Strict):
    kind: ContactKind
    value: Text = Field(min_length=1, max_length=254)
    label: str | None = Field(None, max_length=50)
    is_primary: bool = False


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ContactKind
    value: str
    label: str | None
    is_primary: bool


class ClientCreate(Strict):
    kind: ClientKind = ClientKind.PERSON
    name: Text = Field(min_length=1, max_length=300)
    company_id: int | None = None
    job_title: Text | None = Field(None, max_length=200)
    owner_id: int | None = Field(None, description="Defaults to the creator.")
    source_channel_id: int | None = None
    source_campaign_id: int | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=50)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)

    _custom = field_validator("custom_fields")(check_custom_fields)


class ClientUpdate(Strict):
    """Fields to change; ``contacts`` and ``tags`` replace the whole list when given."""

    kind: ClientKind | None = None
    name: Text | None = Field(None, min_length=1, max_length=300)
    company_id: int | None = None
    job_title: Text | None = Field(None, max_length=200)
    owner_id: int | None = None
    source_channel_id: int | None = None
    source_campaign_id: int | None = None
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = Field(None, max_length=50)
    contacts: list[ContactIn] | None = Field(None, max_length=20)

    _custom = field_validator("custom_fields")(check_custom_fields)


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ClientKind
    name: str
    company_id: int | None
    job_title: str | None
    owner_id: int | None
    source_channel_id: int | None
    source_campaign_id: int | None
    custom_fields: dict[str, Any]
    tags: list[str]
    contacts: list[ContactOut]
    created_at: datetime
    updated_at: datetime
    version: int


class MergeIn(Strict):
    source_ids: list[int] = Field(min_length=1, max_length=20)


class DuplicateGroup(BaseModel):
    kind: ContactKind
    value: str
    client_ids: list[int]


class ConsentIn(Strict):
    purpose: ConsentPurpose
    granted: bool
    method: ConsentMethod
    text_version: str | None = Field(None, max_length=50)
    evidence: Text | None = Field(None, max_length=2000)
    occurred_at: AwareUTC | None = None


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    purpose: ConsentPurpose
    granted: bool
    method: ConsentMethod
    text_version: str | None
    evidence: str | None
    occurred_at: datetime
    recorded_by_id: int | None


class ConsentStatus(BaseModel):
    purpose: ConsentPurpose
    granted: bool
    since: datetime


class TimelineItem(BaseModel):
    at: datetime
    type: str = Field(
        description="deal, stage_change, call, email, meeting, message, note, "
        "task, order, order_status, ticket, feedback, touchpoint, consent"
    )
    id: int
    summary: str
    data: dict[str, Any]


class Timeline(BaseModel):
    client_id: int
    items: list[TimelineItem]
    next_before: datetime | None = Field(
        description="Pass as `before` to get the next (older) items; null at the end."
    )
