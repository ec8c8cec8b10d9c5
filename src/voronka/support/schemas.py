"""API shapes for support tickets, satisfaction feedback and the feedback summary."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from voronka.fields import Strict, Text
from voronka.support.models import FeedbackKind, TicketPriority, TicketStatus

#: Score ranges per feedback kind (inclusive), checked before the database's CHECK.
SCORE_RANGES = {FeedbackKind.CSAT: (1, 5), FeedbackKind.NPS: (0, 10)}


class TicketCreate(Strict):
    client_id: int
    order_id: int | None = Field(None, description="Must be an order of `client_id`.")
    owner_id: int | None = Field(None, description="Defaults to the creator.")
    subject: Text = Field(min_length=1, max_length=300)
    body: Text | None = Field(None, max_length=100_000)
    status: TicketStatus = TicketStatus.OPEN
    priority: TicketPriority = TicketPriority.NORMAL


class TicketUpdate(Strict):
    """Fields to change; the client of a ticket is fixed."""

    order_id: int | None = None
    owner_id: int | None = None
    subject: Text | None = Field(None, min_length=1, max_length=300)
    body: Text | None = Field(None, max_length=100_000)
    status: TicketStatus | None = Field(
        None, description="`resolved`/`closed` set `resolved_at`; `open`/`pending` clear it."
    )
    priority: TicketPriority | None = None


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: int
    order_id: int | None
    owner_id: int | None
    subject: str
    body: str | None
    status: TicketStatus
    priority: TicketPriority
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class FeedbackCreate(Strict):
    client_id: int
    kind: FeedbackKind
    score: int = Field(ge=0, le=10, description="CSAT 1–5, NPS 0–10.")
    comment: Text | None = Field(None, max_length=10_000)
    order_id: int | None = Field(None, description="Must be an order of `client_id`.")
    ticket_id: int | None = Field(None, description="Must be a ticket of `client_id`.")


class FeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: int
    kind: FeedbackKind
    score: int
    comment: str | None
    order_id: int | None
    ticket_id: int | None
    created_at: datetime


class CsatSummary(BaseModel):
    count: int = Field(description="CSAT answers in the period.")
    total: int = Field(description="Sum of their scores.")
    mean: Decimal | None = Field(description="total ÷ count, rounded half-even to 0.01.")


class NpsSummary(BaseModel):
    count: int = Field(description="NPS answers in the period.")
    promoters: int = Field(description="Scores 9–10.")
    passives: int = Field(description="Scores 7–8.")
    detractors: int = Field(description="Scores 0–6.")
    score: Decimal | None = Field(
        description="100 × (promoters − detractors) ÷ count, rounded half-even to 0.01."
    )


class FeedbackSummary(BaseModel):
    period_from: datetime | None = Field(serialization_alias="from")
    period_to: datetime | None = Field(serialization_alias="to")
    csat: CsatSummary
    nps: NpsSummary
