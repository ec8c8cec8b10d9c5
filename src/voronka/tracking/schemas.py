"""Shapes of what the tracker sends and of the site settings the API manages.

Tracker payloads come from browsers anywhere on the internet: every field is bounded and a
bad one is a 400 naming it (``voronka.tracking.hit.parse``), never a half-written visit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from voronka.fields import Strict, Text

Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")]
MAX_PROPERTIES = 20


class HitType(StrEnum):
    PAGEVIEW = "pageview"  # a page was shown
    HEARTBEAT = "heartbeat"  # the page is still visible; ``seconds`` so far
    LEAVE = "leave"  # the page was hidden or closed (sendBeacon); ``seconds`` final
    GOAL = "goal"  # a goal of the site was reached


class Signals(BaseModel):
    """What only a script running in a real browser can tell; missing means no JavaScript."""

    model_config = ConfigDict(extra="ignore")

    screen: str = Field(pattern=r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")
    tz: str = Field(min_length=1, max_length=64)
    lang: str = Field(min_length=2, max_length=35)
    webdriver: bool = False


class Hit(BaseModel):
    """One request of the snippet."""

    model_config = ConfigDict(extra="forbid")

    site: Key = Field(min_length=8, max_length=40)
    visitor: Key = Field(min_length=16, max_length=64)
    type: HitType
    view: Key = Field(min_length=8, max_length=32)
    url: str = Field(min_length=8, max_length=2000)
    referrer: str | None = Field(None, max_length=2000)
    title: Text | None = Field(None, max_length=2000)
    seconds: int = Field(0, ge=0, le=24 * 3600)
    goal: Text | None = Field(None, min_length=1, max_length=100)
    event: Key | None = Field(None, min_length=4, max_length=32)
    properties: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    signals: Signals

    @field_validator("properties")
    @classmethod
    def _few_properties(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_PROPERTIES or any(len(k) > 64 for k in value):
            raise ValueError(f"at most {MAX_PROPERTIES} properties with names ≤ 64 characters")
        if any(isinstance(v, str) and len(v) > 500 for v in value.values()):
            raise ValueError("property values are at most 500 characters")
        return value


class NumberAsk(BaseModel):
    """The snippet asks which phone number to show on this page."""

    model_config = ConfigDict(extra="forbid")

    site: Key = Field(min_length=8, max_length=40)
    visitor: Key = Field(min_length=16, max_length=64)
    view: Key = Field(min_length=8, max_length=32)
    url: str = Field(min_length=8, max_length=2000)
    referrer: str | None = Field(None, max_length=2000)
    signals: Signals


class NumberOut(BaseModel):
    number: str | None = Field(description="E.164 number to show; null when there is none.")
    display: str | None = Field(description="The number formatted for people.")
    pooled: bool = Field(description="True when the number is reserved for this visit.")
    held_until: datetime | None = None


# -- site settings (API) ----------------------------------------------------------------------


class SiteCreate(Strict):
    name: Text = Field(min_length=1, max_length=200)
    allowed_origins: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list,
        max_length=50,
        description="Origins such as `https://shop.example`; empty accepts any origin.",
    )
    default_number: str | None = Field(
        None, max_length=40, description="Shown when the number pool is exhausted."
    )
    is_active: bool = True


class SiteUpdate(Strict):
    name: Text | None = Field(None, min_length=1, max_length=200)
    allowed_origins: list[Annotated[str, Field(max_length=300)]] | None = Field(
        None, max_length=50
    )
    default_number: str | None = Field(None, max_length=40)
    is_active: bool | None = None


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_key: str
    name: str
    allowed_origins: list[str]
    default_number: str | None
    is_active: bool
    version: int
    snippet: str = Field("", description="The HTML to put on every page of the site.")


class PoolStatus(BaseModel):
    """The dynamic number pool of a site's workspace, now and over a period."""

    pool_size: int
    in_use: int
    free: int
    reservations: int = Field(description="Reservations of pool numbers in the period.")
    fallbacks: int = Field(description="Visits that got the default number (pool exhausted).")
    since: datetime
    until: datetime


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    visitor_key: str
    client_id: int | None
    started_at: datetime
    last_activity_at: datetime
    ended_at: datetime | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    referrer: str | None
    landing_page: str | None
    campaign_id: int | None
    channel_id: int | None
    pages: int
    seconds_on_site: int
