"""Helpers for support tests: a pinned clock, orders to link to, and table snapshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from voronka import clock
from voronka.db.session import unit_of_work
from voronka.order.models import Order
from voronka.support.models import Feedback, Ticket

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    """Pin ``voronka.clock.now()`` to 2026-12-01 09:00 UTC for the test."""
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)


@pytest.fixture
def make_order(engine: Engine) -> Callable[[int], int]:
    """A factory: ``make_order(client_id)`` stores an order of that client and returns its id."""

    def make(client_id: int) -> int:
        with unit_of_work(engine) as session:
            count = len(session.scalars(select(Order.id)).all())
            order = Order(workspace_id=1, number=f"N-{count + 1}", client_id=client_id)
            session.add(order)
            session.flush()
            return order.id

    return make


def rows_of(engine: Engine, model: type[Ticket] | type[Feedback]) -> list[dict[str, Any]]:
    """Every row of ``model``'s table as a dict, in id order."""
    table = model.__table__
    with unit_of_work(engine, write=False) as session:
        return [dict(r._mapping) for r in session.execute(select(table).order_by(table.c.id))]
