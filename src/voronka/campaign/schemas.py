"""API shapes for channels, campaigns, ad spend, tracking numbers and touchpoints.

Money follows the order schemas: exact decimal strings with at most two decimals.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from voronka.campaign.models import ChannelKind, TouchpointKind, TrackingKind
from voronka.fields import AwareUTC, CurrencyCode, MoneyIn, MoneyOut, Strict

MAX_SPEND_ROWS = 5000
Slug = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Lower-case letters, digits, `-` and `_`; unique in the workspace.",
    ),
]
UtmValue = Annotated[str, Field(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=2_000_000_000)]


class ChannelCreate(Strict):
    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    kind: ChannelKind
    is_paid: bool = False


class ChannelUpdate(Strict):
    slug: Slug | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: ChannelKind | None = None
    is_paid: bool | None = None


class ChannelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    kind: ChannelKind
    is_paid: bool
    created_at: datetime
    updated_at: datetime
    version: int


class CampaignCreate(Strict):
    channel_id: int
    name: str = Field(min_length=1, max_length=200)
    utm_source: UtmValue | None = None
    utm_medium: UtmValue | None = None
    utm_campaign: UtmValue | None = None
    utm_content: UtmValue | None = None
    utm_term: UtmValue | None = None
    starts_on: date | None = None
    ends_on: date | None = Field(None, description="Inclusive; not before starts_on.")
    is_active: bool = True


class CampaignUpdate(Strict):
    channel_id: int | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    utm_source: UtmValue | None = None
    utm_medium: UtmValue | None = None
    utm_campaign: UtmValue | None = None
    utm_content: UtmValue | None = None
    utm_term: UtmValue | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    is_active: bool | None = None


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel_id: int
    name: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    starts_on: date | None
    ends_on: date | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class AdSpendRow(Strict):
    """One day of one campaign; the pair (campaign_id, day) identifies the row."""

    campaign_id: int
    day: date
    cost: MoneyIn
    currency: CurrencyCode | None = Field(None, description="Defaults to the company currency.")
    impressions: Count = 0
    clicks: Count = 0
    source: str | None = Field(None, max_length=64, description="Where the figures came from.")


class AdSpendBatch(Strict):
    rows: list[AdSpendRow] = Field(min_length=1, max_length=MAX_SPEND_ROWS)


class AdSpendOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    day: date
    cost: MoneyOut
    currency: str
    impressions: int
    clicks: int
    source: str | None


class AdSpendUpsertResult(BaseModel):
    created: int = Field(description="Rows whose (campaign_id, day) was new.")
    updated: int = Field(description="Existing rows whose values changed.")
    unchanged: int = Field(description="Existing rows sent again with the same values.")
    items: list[AdSpendOut]


class SpendTotal(BaseModel):
    """Sums over every row matching the filters (not just the page), in one currency."""

    currency: str
    cost: MoneyOut
    impressions: int
    clicks: int
    rows: int


class TrackingNumberCreate(Strict):
    number: str = Field(min_length=1, max_length=40, description="Any format; stored as E.164.")
    kind: TrackingKind = TrackingKind.STATIC
    channel_id: int | None = Field(None, description="Defaults to the campaign's channel.")
    campaign_id: int | None = None
    description: str | None = Field(None, max_length=300)
    is_active: bool = True


class TrackingNumberUpdate(Strict):
    number: str | None = Field(None, min_length=1, max_length=40)
    kind: TrackingKind | None = None
    channel_id: int | None = None
    campaign_id: int | None = None
    description: str | None = Field(None, max_length=300)
    is_active: bool | None = None


class TrackingNumberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    kind: TrackingKind
    channel_id: int | None
    campaign_id: int | None
    description: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class TouchpointCreate(Strict):
    """One contact with marketing; give a ``visitor_id``, a ``client_id`` or both."""

    kind: TouchpointKind
    occurred_at: AwareUTC
    visitor_id: str | None = Field(None, min_length=1, max_length=64)
    client_id: int | None = Field(None, description="A client you can see.")
    channel_id: int | None = Field(None, description="Defaults to the campaign's channel.")
    campaign_id: int | None = Field(None, description="Found from the UTM values when absent.")
    utm_source: UtmValue | None = None
    utm_medium: UtmValue | None = None
    utm_campaign: UtmValue | None = None
    referrer: str | None = Field(None, max_length=1000)
    landing_page: str | None = Field(None, max_length=1000)
    pages: Count = 0
    seconds_on_site: Count = 0


class TouchpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: TouchpointKind
    occurred_at: datetime
    visitor_id: str | None
    client_id: int | None
    channel_id: int | None
    campaign_id: int | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    referrer: str | None
    landing_page: str | None
    pages: int
    seconds_on_site: int
