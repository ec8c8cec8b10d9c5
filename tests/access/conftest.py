"""Fixtures of the access tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from voronka import clock


@pytest.fixture
def freeze_clock() -> Iterator[Callable[[datetime], None]]:
    """Pin ``voronka.clock`` for the test; always released afterwards."""
    try:
        yield clock.freeze
    finally:
        clock.freeze(None)
