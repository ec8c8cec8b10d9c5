"""Fixtures of the pipeline tests: the sample pipeline and a pinned clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.pipeline.sample import FrozenClock, SamplePipeline, create_pipeline, frozen_clock


@pytest.fixture
def sales(people: Any) -> SamplePipeline:
    """The default pipeline New → Qualified → Proposal → Won | Lost."""
    return create_pipeline(people)


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    yield from frozen_clock()
