"""Fixtures of the import/export tests: the sample pipeline and an in-process importer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.pipeline.sample import FrozenClock, SamplePipeline, create_pipeline, frozen_clock
from voronka.access.actor import Actor
from voronka.access.policy import Action, scope_for
from voronka.db.session import unit_of_work
from voronka.transfer import importer
from voronka.transfer.mapping import Entity
from voronka.transfer.options import ImportOptions
from voronka.transfer.reading import format_of
from voronka.transfer.report import ImportReport

RESOURCE = {"clients": "client", "deals": "deal"}

ImportRunner = Callable[..., ImportReport]


@pytest.fixture
def sales(people: Any) -> SamplePipeline:
    """The default pipeline New → Qualified → Proposal → Won | Lost."""
    return create_pipeline(people)


def run_import(
    session: Any, path: Path, entity: str = "clients", actor: Actor | None = None, **options: Any
) -> ImportReport:
    """Import ``path`` in ``session`` as ``actor`` (the operator by default)."""
    actor = actor or Actor.system()
    return importer.import_file(
        session,
        actor=actor,
        scope=scope_for(actor, RESOURCE[entity], Action.IMPORT),
        entity=Entity(entity),
        path=path,
        file_format=format_of(path.name),
        options=ImportOptions(**options),
    )


@pytest.fixture
def import_file(engine: Engine, people: Any) -> ImportRunner:
    """Import a file in a transaction of its own, as the operator or as one of the cast."""

    def run(path: Path, entity: str = "clients", who: str | None = None, **options: Any):  # type: ignore[no-untyped-def]
        actor = people.actor(who) if who else None
        with unit_of_work(engine) as session:
            return run_import(session, path, entity, actor, **options)

    return run


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    yield from frozen_clock()


BULK_RESOURCE = {"clients": "client", "touchpoints": "touchpoint"}


def create_bulk_run(engine: Engine, path: Path, entity: str, actor: Actor, **options: Any) -> int:
    """Record a bulk run of ``path`` (``options`` as ``runs.create_run`` takes them)."""
    from voronka.transfer import runs
    from voronka.transfer.options import ImportMode

    options.setdefault("mode", ImportMode.ATOMIC)
    options.setdefault("dry_run", False)
    with unit_of_work(engine) as session:
        run = runs.create_run(
            session, actor=actor, entity=Entity(entity), file_name=path.name,
            file_format=format_of(path.name), stored_path=path, **options,
        )
        return run.id


@pytest.fixture
def bulk_import(engine: Engine, people: Any) -> Callable[..., Any]:
    """Run a bulk import of a file to the end, as the operator or one of the cast."""
    from voronka.transfer.bulk import runner

    def run(path: Path, entity: str = "clients", who: str | None = None, **options: Any):  # type: ignore[no-untyped-def]
        actor = people.actor(who) if who else Actor.system()
        run_id = create_bulk_run(engine, path, entity, actor, **options)
        return runner.execute(engine, run_id, actor=actor)

    return run
