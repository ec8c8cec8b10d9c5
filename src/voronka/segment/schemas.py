"""Input and output of saved segments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voronka.analytics.query import Period
from voronka.analytics.reports.clients import SEGMENT_CODES
from voronka.segment.models import SegmentSource


class BehaviourSource(BaseModel):
    """One segment of a ``segments`` report run: the report's query and the segment number."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["behaviour"] = "behaviour"
    query: dict[str, Any] = Field(default_factory=dict,
                                  description="The segments report's query (as_of, k, …).")
    segment: int = Field(ge=0, description="The segment number in that run.")


class RfmSource(BaseModel):
    """A named RFM segment of the clients report over a period."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["rfm"] = "rfm"
    segment: str = Field(description="An RFM segment name, e.g. Champions.")
    period: Period

    @model_validator(mode="after")
    def _known(self) -> RfmSource:
        if self.segment not in SEGMENT_CODES:
            raise ValueError(f"unknown RFM segment; known: {', '.join(SEGMENT_CODES)}")
        return self


class SegmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    source: BehaviourSource | RfmSource = Field(discriminator="kind")


class SegmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    source: SegmentSource
    definition: dict[str, Any]
    member_count: int
    created_by_id: int | None
    created_at: datetime


class MembersFilter(BaseModel):
    """Kept in the audit event of an export."""

    segment_id: int
    as_of: date | None = None
