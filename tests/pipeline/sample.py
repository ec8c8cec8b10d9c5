"""Sample pipelines and deals made through the API, and a snapshot of what is stored.

Shared by the pipeline and deal tests: pipelines are created by the administrator X, deals
by whoever the test names, always over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from voronka import clock
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStageChange
from voronka.pipeline.models import Pipeline, Stage

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

SALES_STAGES = [
    {"name": "New", "probability": 10},
    {"name": "Qualified", "probability": 30},
    {"name": "Proposal", "probability": 60},
    {"name": "Won", "kind": "won"},
    {"name": "Lost", "kind": "lost"},
]


@dataclass
class SamplePipeline:
    """A pipeline as the API returned it, with its stage ids by name."""

    body: dict[str, Any]
    etag: str

    @property
    def id(self) -> int:
        return int(self.body["id"])

    @property
    def stages(self) -> dict[str, int]:
        return {s["name"]: s["id"] for s in self.body["stages"]}


def create_pipeline(
    people: Any,
    name: str = "Sales",
    *,
    stages: list[dict[str, Any]] | None = None,
    strict_order: bool = False,
    is_default: bool = True,
) -> SamplePipeline:
    response = people.http("X").post(
        "/api/v1/pipelines",
        json={
            "name": name,
            "strict_order": strict_order,
            "is_default": is_default,
            "stages": stages or SALES_STAGES,
        },
    )
    assert response.status_code == 201, response.text
    return SamplePipeline(response.json(), response.headers["etag"])


def create_deal(people: Any, who: str, client: str, **fields: Any) -> dict[str, Any]:
    """Create a deal for the cast's ``client`` as ``who``; returns the body and ETag."""
    payload = {"title": f"Deal of {client}", "client_id": people.clients[client], **fields}
    response = people.http(who).post("/api/v1/deals", json=payload)
    assert response.status_code == 201, response.text
    return {**response.json(), "etag": response.headers["etag"]}


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every deal, stage change, pipeline and stage row, and the number of audit events."""
    with unit_of_work(engine, write=False) as session:
        return {
            "deals": [
                (
                    d.id,
                    d.version,
                    d.title,
                    d.client_id,
                    d.owner_id,
                    d.stage_id,
                    d.status,
                    d.amount,
                    d.currency,
                    d.closed_at,
                    d.lost_reason,
                    d.is_deleted,
                )
                for d in session.scalars(select(Deal).order_by(Deal.id))
            ],
            "changes": [
                (c.id, c.deal_id, c.from_stage_id, c.to_stage_id)
                for c in session.scalars(select(DealStageChange).order_by(DealStageChange.id))
            ],
            "pipelines": [
                (p.id, p.version, p.name, p.is_default, p.is_archived, p.strict_order)
                for p in session.scalars(select(Pipeline).order_by(Pipeline.id))
            ],
            "stages": [
                (s.id, s.version, s.name, s.position, s.kind, s.probability, s.is_archived)
                for s in session.scalars(select(Stage).order_by(Stage.id))
            ],
            # sign-ins left out: the cast signs in lazily, on its first request as a role
            "audit_events": session.scalar(
                select(func.count()).where(AuditEvent.action != "sign_in")
            ),
        }


def stage_changes(engine: Engine, deal_id: int) -> list[tuple[int | None, int, int | None]]:
    """(from stage, to stage, changed by) of a deal's history, oldest first."""
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(
                DealStageChange.from_stage_id,
                DealStageChange.to_stage_id,
                DealStageChange.changed_by_id,
            )
            .where(DealStageChange.deal_id == deal_id)
            .order_by(DealStageChange.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]


@dataclass
class FrozenClock:
    """The application clock pinned at ``now``; ``advance`` moves it forward."""

    now: datetime

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        clock.freeze(self.now)
        return self.now


def frozen_clock() -> Iterator[FrozenClock]:
    """Pin the clock at START for a test (sessions last 12 h: advance less than that)."""
    frozen = FrozenClock(START)
    clock.freeze(START)
    try:
        yield frozen
    finally:
        clock.freeze(None)
