"""Typed queries shared by every report: period, grain, breakdown, filters.

Periods are whole local days in the company time zone, ``start`` and ``end`` inclusive.
Invalid queries raise ``InvalidInput`` naming the field.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_PERIOD_DAYS = 366 * 20


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Breakdown(StrEnum):
    CHANNEL = "channel"
    CAMPAIGN = "campaign"
    MANAGER = "manager"
    PIPELINE = "pipeline"
    PRODUCT_GROUP = "product_group"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(Strict):
    """Local calendar days ``start``..``end`` inclusive."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if (self.end - self.start).days > MAX_PERIOD_DAYS:
            raise ValueError(f"a period may span at most {MAX_PERIOD_DAYS} days")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(start=self.start - timedelta(days=self.days),
                      end=self.start - timedelta(days=1))

    def year_before(self) -> Period:
        """The same dates one year earlier (29 February becomes 28 February)."""
        return Period(start=_year_before(self.start), end=_year_before(self.end))


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


class Filters(Strict):
    """Keep only facts of these channels, campaigns, managers, pipelines or product groups."""

    channel_ids: tuple[int, ...] | None = Field(None, max_length=500)
    campaign_ids: tuple[int, ...] | None = Field(None, max_length=500)
    manager_ids: tuple[int, ...] | None = Field(None, max_length=500)
    pipeline_ids: tuple[int, ...] | None = Field(None, max_length=500)
    product_group_ids: tuple[int, ...] | None = Field(None, max_length=500)

    def by_dimension(self) -> dict[Breakdown, tuple[int, ...]]:
        pairs = {Breakdown.CHANNEL: self.channel_ids, Breakdown.CAMPAIGN: self.campaign_ids,
                 Breakdown.MANAGER: self.manager_ids, Breakdown.PIPELINE: self.pipeline_ids,
                 Breakdown.PRODUCT_GROUP: self.product_group_ids}
        return {k: v for k, v in pairs.items() if v is not None}
