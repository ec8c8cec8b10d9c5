"""Helpers for activity tests: a pinned clock, deals to link to, and table snapshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from voronka import clock
from voronka.activity.models import Activity
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal
from voronka.pipeline.models import Pipeline, Stage

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    """Pin ``voronka.clock.now()`` to 2026-12-01 09:00 UTC for the test."""
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)


@pytest.fixture
def make_deal(engine: Engine) -> Callable[[int], int]:
    """A factory: ``make_deal(client_id)`` stores an open deal of that client, returns its id."""

    def make(client_id: int) -> int:
        with unit_of_work(engine) as session:
            pipeline = Pipeline(workspace_id=1, name=f"P{client_id}")
            session.add(pipeline)
            session.flush()
            stage = Stage(workspace_id=1, pipeline_id=pipeline.id, name="New", position=0)
            session.add(stage)
            session.flush()
            deal = Deal(
                workspace_id=1,
                title="Deal",
                client_id=client_id,
                pipeline_id=pipeline.id,
                stage_id=stage.id,
                amount=Decimal("10.00"),
                stage_entered_at=clock.now(),
            )
            session.add(deal)
            session.flush()
            return deal.id

    return make


def activity_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every activity row as a dict, in id order (to prove a denied request changed nothing)."""
    columns = Activity.__table__.columns
    with unit_of_work(engine, write=False) as session:
        return [
            dict(row._mapping) for row in session.execute(select(*columns).order_by(Activity.id))
        ]
