"""API shapes for pipelines, their stages and the kanban board."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from voronka.db.types import CENT
from voronka.deal.models import DealStatus
from voronka.fields import Strict
from voronka.pipeline.models import StageKind

MAX_STAGES = 50

MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value.quantize(CENT)), return_type=str, when_used="json"),
]


class StageIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: StageKind = StageKind.OPEN
    probability: int | None = Field(
        None, ge=0, le=100, description="Chance to win from here, %; defaults to 100 for won."
    )


class StageAdd(StageIn):
    position: int | None = Field(
        None,
        ge=0,
        description="Index among the active stages to insert at (0 = first). Default: an open "
        "stage goes after the last open stage, a won or lost stage goes last.",
    )


class StageUpdate(Strict):
    """Fields to change; ``kind`` may change only while no deal has ever entered the stage."""

    name: str | None = Field(None, min_length=1, max_length=200)
    kind: StageKind | None = None
    probability: int | None = Field(None, ge=0, le=100)


class StageOrder(Strict):
    stage_ids: list[int] = Field(
        min_length=1,
        max_length=MAX_STAGES,
        description="Every active stage of the pipeline, once each, in the new order.",
    )


class PipelineCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    strict_order: bool = False
    is_default: bool = False
    stages: list[StageIn] = Field(
        min_length=1,
        max_length=MAX_STAGES,
        description="In order; at least one open, one won and one lost stage.",
    )


class PipelineUpdate(Strict):
    """Fields to change; archiving is refused while the pipeline has open deals."""

    name: str | None = Field(None, min_length=1, max_length=200)
    strict_order: bool | None = None
    is_default: bool | None = None
    position: int | None = Field(None, ge=0, le=1_000_000)
    is_archived: bool | None = None


class StageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int
    kind: StageKind
    probability: int
    is_archived: bool


class PipelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int
    is_default: bool
    strict_order: bool
    is_archived: bool
    stages: list[StageOut] = Field(description="Active stages in order, then archived ones.")
    created_at: datetime
    updated_at: datetime
    version: int


class MoneyTotal(BaseModel):
    currency: str
    amount: MoneyOut


class BoardDeal(BaseModel):
    """A deal card on the board."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    client_id: int
    owner_id: int | None
    status: DealStatus
    amount: MoneyOut
    currency: str
    stage_entered_at: datetime


class BoardColumn(BaseModel):
    stage_id: int
    name: str
    kind: StageKind
    probability: int
    count: int = Field(description="Deals in this stage that you can see.")
    amounts: list[MoneyTotal] = Field(description="Exact sum of their amounts per currency.")
    deals: list[BoardDeal] = Field(description="The most recently entered deals, newest first.")


class Board(BaseModel):
    pipeline_id: int
    owner_id: int | None
    columns: list[BoardColumn]
