"""Fixtures of the site-tracker tests (see support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pipeline.sample import FrozenClock
from tests.tracking.support import Shop, clock_fixture, shop_fixture


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    yield from clock_fixture()


@pytest.fixture
def shop(engine, frozen) -> Iterator[Shop]:
    yield from shop_fixture(engine)
