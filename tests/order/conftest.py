"""Fixtures for the order tests: a small catalogue created over HTTP by the administrator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from voronka import clock

CATALOGUE = {
    "WIDGET": ("33.33", "20.00", "RUB"),
    "PENNY": ("0.01", "0.00", "RUB"),
    "GADGET": ("10.00", "7.50", "RUB"),
    "IMPORTED": ("5.00", "3.00", "USD"),
}


@pytest.fixture
def catalogue(people) -> dict[str, int]:
    """Product ids by SKU (prices in ``CATALOGUE``)."""
    admin = people.http("X")
    ids = {}
    for sku, (price, cost, currency) in CATALOGUE.items():
        response = admin.post(
            "/api/v1/products",
            json={
                "sku": sku,
                "name": sku.title(),
                "price": price,
                "cost_price": cost,
                "currency": currency,
            },
        )
        assert response.status_code == 201, response.text
        ids[sku] = response.json()["id"]
    return ids


@pytest.fixture
def frozen_clock() -> Iterator[object]:
    """Pin the clock to 2026-03-01 09:00 UTC; ``frozen_clock.move(dt)`` moves it.

    Sign-in sessions last 12 hours, so tests move the clock less than that.
    """

    class Handle:
        def move(self, at: datetime) -> None:
            clock.freeze(at)

    clock.freeze(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    yield Handle()
    clock.freeze(None)
