"""API shapes for deals, their moves between stages and their stage history.

Money is an exact decimal: read from a JSON string (``"1500.50"``) or number, refused when
negative or with more than two decimals, always written back as a string with two decimals.
Currencies are ISO 4217 codes in upper case.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voronka.deal.models import DealStatus
from voronka.fields import CurrencyCode, MoneyIn, MoneyOut, Strict, check_custom_fields


class DealCreate(Strict):
    title: str = Field(min_length=1, max_length=300)
    client_id: int
    pipeline_id: int | None = Field(
        None, description="Defaults to the stage's pipeline, else the default pipeline."
    )
    stage_id: int | None = Field(None, description="Defaults to the pipeline's first open stage.")
    owner_id: int | None = Field(None, description="Defaults to the creator.")
    amount: MoneyIn = Decimal("0")
    currency: CurrencyCode | None = Field(None, description="Defaults to the workspace currency.")
    channel_id: int | None = None
    campaign_id: int | None = None
    external_id: str | None = Field(
        None, min_length=1, max_length=128,
        description="The deal's id in another system, unique in the workspace; bulk deal and "
        "order imports match on it.",
    )
    expected_close_on: date | None = None
    lost_reason: str | None = Field(
        None, min_length=1, max_length=300, description="Required when starting in a lost stage."
    )
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    _custom = field_validator("custom_fields")(check_custom_fields)


class DealUpdate(Strict):
    """Fields to change. The stage changes only through ``POST /deals/{id}/move``."""

    title: str | None = Field(None, min_length=1, max_length=300)
    client_id: int | None = None
    owner_id: int | None = Field(None, description="Needs the reassign right.")
    amount: MoneyIn | None = None
    currency: CurrencyCode | None = None
    channel_id: int | None = None
    campaign_id: int | None = None
    external_id: str | None = Field(
        None, min_length=1, max_length=128,
        description="The deal's id in another system, unique in the workspace; bulk deal and "
        "order imports match on it.",
    )
    expected_close_on: date | None = None
    lost_reason: str | None = Field(
        None, min_length=1, max_length=300, description="Only for a lost deal."
    )
    custom_fields: dict[str, Any] | None = None

    _custom = field_validator("custom_fields")(check_custom_fields)


class DealMove(Strict):
    stage_id: int
    pipeline_id: int | None = Field(
        None,
        description="Required (and must be the stage's pipeline) to move the deal into "
        "another pipeline; a stage of another pipeline without it is refused.",
    )
    lost_reason: str | None = Field(
        None, min_length=1, max_length=300, description="Required when moving into a lost stage."
    )


class DealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    client_id: int
    pipeline_id: int
    stage_id: int
    status: DealStatus
    owner_id: int | None
    amount: MoneyOut
    currency: str
    channel_id: int | None
    campaign_id: int | None
    external_id: str | None
    stage_entered_at: datetime
    closed_at: datetime | None
    expected_close_on: date | None
    lost_reason: str | None
    custom_fields: dict[str, Any]
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class StageStay(BaseModel):
    """One stage change and how long the deal then stayed in the stage it entered."""

    id: int
    from_stage_id: int | None = Field(description="Null for the creation of the deal.")
    to_stage_id: int
    to_stage_name: str
    changed_at: datetime
    changed_by_id: int | None
    left_at: datetime | None = Field(description="When the deal left the stage; null if still in.")
    duration_seconds: float = Field(description="Until left_at, or until now while still in.")


class DealHistory(BaseModel):
    deal_id: int
    items: list[StageStay]
