"""Crashes in the middle of a bulk import (RELIABILITY 101): atomic runs leave nothing,
per-row runs keep their committed batches and resume after the checkpoint, never writing or
counting a row twice. Faults are injected at the database driver (a statement that raises)
and in the progress callback (the process dying between batches)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from itertools import islice

import pytest
from sqlalchemy import event, func, select

from tests.transfer.conftest import create_bulk_run
from tests.transfer.files import write_csv
from voronka.access.actor import Actor
from voronka.audit.models import AuditEvent
from voronka.client.models import Client, ContactPoint
from voronka.db.session import unit_of_work
from voronka.jobs import run_pending
from voronka.jobs.models import Job, JobStatus
from voronka.transfer import runs, tasks
from voronka.transfer.bulk import runner
from voronka.transfer.models import ImportRun, RunStatus
from voronka.transfer.options import ImportMode
from voronka.transfer.runs import bulk_batch_size, bulk_batch_sizes


class Crash(Exception):
    """The injected fault."""


@contextmanager
def failing_insert(engine, after: int):
    """Make the ``after``-th (1-based) INSERT INTO client raise, as a dying server would."""
    seen = {"inserts": 0}

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "INSERT INTO client (" in statement:  # alone (SQLite) or in a WITH (PostgreSQL)
            seen["inserts"] += 1
            if seen["inserts"] == after:
                raise Crash("server gone")

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


def client_file(tmp_path, count=10):
    rows = [[f"Клиент {i}", f"+7999888{i:04d}"] for i in range(count)]
    return write_csv(tmp_path / "c.csv", [["name", "phone"], *rows])


def clients_and_phones(engine):
    with unit_of_work(engine, write=False) as session:
        names = session.scalar(select(func.count()).select_from(Client))
        phones = session.scalar(select(func.count(func.distinct(ContactPoint.value))))
        return names, phones


def load_run(engine, run_id):
    with unit_of_work(engine, write=False) as session:
        return session.get_one(ImportRun, run_id)


def test_per_row_crash_inside_a_batch_keeps_earlier_batches_and_resumes(
    engine, people, tmp_path
):
    path = client_file(tmp_path)
    actor = Actor.system()
    run_id = create_bulk_run(engine, path, "clients", actor, mode=ImportMode.PER_ROW,
                             batch_size=3)
    with failing_insert(engine, after=3), pytest.raises(Crash):
        runner.execute(engine, run_id, actor=actor)
    run = load_run(engine, run_id)
    # batches of rows 2-4 and 5-7 committed; the third (rows 8-10) was rolled back
    assert (run.status, run.checkpoint_row, run.total, run.created) == (
        RunStatus.FAILED, 7, 6, 6)
    assert "server gone" in run.message
    assert clients_and_phones(engine) == (3 + 6, 3 + 6)  # the cast's three clients + 6
    resumed = runner.execute(engine, run_id, actor=actor)
    assert (resumed.status, resumed.checkpoint_row, resumed.total, resumed.created,
            resumed.duplicates) == (RunStatus.DONE, 11, 10, 10, 0)
    assert clients_and_phones(engine) == (13, 13)
    # the committed batches were audited when the run failed, and the whole run at the end
    with unit_of_work(engine, write=False) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.detail["status"], e.detail["created"]) for e in events] == [
        ("import", "failed", 6), ("import", "done", 10)]


def test_per_row_crash_between_batches_resumes_without_duplicates(engine, people, tmp_path):
    path = client_file(tmp_path)
    actor = Actor.system()
    run_id = create_bulk_run(engine, path, "clients", actor, mode=ImportMode.PER_ROW,
                             batch_size=4)

    def die_after_first_batch(done, total, checkpoint):  # type: ignore[no-untyped-def]
        raise Crash("worker killed")

    with pytest.raises(Crash):
        runner.execute(engine, run_id, actor=actor, progress=die_after_first_batch)
    assert load_run(engine, run_id).checkpoint_row == 5
    assert clients_and_phones(engine) == (7, 7)
    resumed = runner.execute(engine, run_id, actor=actor)
    assert (resumed.total, resumed.created, resumed.duplicates) == (10, 10, 0)
    assert clients_and_phones(engine) == (13, 13)


def test_atomic_crash_leaves_nothing_and_a_rerun_starts_over(engine, people, tmp_path):
    path = client_file(tmp_path)
    actor = Actor.system()
    run_id = create_bulk_run(engine, path, "clients", actor, mode=ImportMode.ATOMIC,
                             batch_size=3)
    with failing_insert(engine, after=3), pytest.raises(Crash):
        runner.execute(engine, run_id, actor=actor)
    run = load_run(engine, run_id)
    assert (run.status, run.checkpoint_row, run.total, run.created) == (
        RunStatus.FAILED, 1, 0, 0)
    assert clients_and_phones(engine) == (3, 3)
    again = runner.execute(engine, run_id, actor=actor)
    assert (again.status, again.total, again.created) == (RunStatus.DONE, 10, 10)
    assert clients_and_phones(engine) == (13, 13)


def test_the_job_runs_the_import_and_a_retry_resumes_it(engine, people, tmp_path, frozen):
    path = client_file(tmp_path)
    actor = people.actor("X")
    run_id = create_bulk_run(engine, path, "clients", actor, mode=ImportMode.PER_ROW,
                             batch_size=3)
    with unit_of_work(engine) as session:
        tasks.queue_run(session, session.get_one(ImportRun, run_id))
    with failing_insert(engine, after=2):
        assert run_pending(engine) == 1
    assert load_run(engine, run_id).checkpoint_row == 4
    with unit_of_work(engine, write=False) as session:
        job = session.scalars(select(Job)).one()
        assert (job.status, job.state) == (JobStatus.QUEUED, {"checkpoint_row": 4})
    frozen.advance(seconds=5)  # past the retry delay
    assert run_pending(engine) == 1
    run = load_run(engine, run_id)
    assert (run.status, run.total, run.created, run.created_by_id) == (
        RunStatus.DONE, 10, 10, people.users["X"])
    assert clients_and_phones(engine) == (13, 13)
    with unit_of_work(engine, write=False) as session:
        job = session.scalars(select(Job)).one()
        assert (job.status, job.progress_done, job.progress_total) == (JobStatus.DONE, 10, 10)


def test_two_concurrent_imports_of_the_same_phones_make_one_client_each(
    engine, people, tmp_path
):
    """RELIABILITY 78 for bulk imports: batches take turns, so a phone is inserted once."""
    import threading

    first = write_csv(tmp_path / "a.csv", [["name", "phone"]] + [
        [f"A{i}", f"+7999666{i:04d}"] for i in range(40)])
    second = write_csv(tmp_path / "b.csv", [["name", "phone"]] + [
        [f"B{i}", f"+7999666{i:04d}"] for i in range(40)])
    actor = Actor.system()
    ids = [create_bulk_run(engine, path, "clients", actor, mode=ImportMode.PER_ROW,
                           batch_size=5) for path in (first, second)]
    results = {}

    def work(run_id):  # type: ignore[no-untyped-def]
        results[run_id] = runner.execute(engine, run_id, actor=actor)

    threads = [threading.Thread(target=work, args=(run_id,)) for run_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = sum(r.created for r in results.values())
    duplicates = sum(r.duplicates for r in results.values())
    assert (created, duplicates) == (40, 40)
    with unit_of_work(engine, write=False) as session:
        holders = session.execute(
            select(ContactPoint.value, func.count()).where(ContactPoint.value.like("+7999666%"))
            .group_by(ContactPoint.value).having(func.count() > 1)).all()
    assert holders == []


def test_a_run_without_a_batch_size_takes_its_stores_default():
    # the sizes measured fastest (docs/benchmarks.md); a size the run names is kept
    assert bulk_batch_size({"batch_size": None}, "postgresql") == 20_000
    assert bulk_batch_size({}, "sqlite") == 10_000
    assert bulk_batch_size({"batch_size": 3}, "postgresql") == 3


def test_a_run_without_a_batch_size_starts_with_smaller_batches():
    # an eighth, a quarter and a half of the default first, none below 1,000 rows
    assert list(islice(bulk_batch_sizes({}, "postgresql"), 5)) == [
        2_500, 5_000, 10_000, 20_000, 20_000]
    assert list(islice(bulk_batch_sizes({"batch_size": None}, "sqlite"), 5)) == [
        1_250, 2_500, 5_000, 10_000, 10_000]
    assert list(islice(bulk_batch_sizes({}, "mysql"), 4)) == [1_250, 2_500, 5_000, 5_000]
    # a size the run names is every batch's
    assert list(islice(bulk_batch_sizes({"batch_size": 20_000}, "postgresql"), 3)) == [
        20_000, 20_000, 20_000]
    assert list(islice(bulk_batch_sizes({"batch_size": 3}, "sqlite"), 3)) == [3, 3, 3]


def test_a_ramped_run_commits_every_batch_and_resumes_after_its_checkpoint(
    engine, people, tmp_path, monkeypatch
):
    # the defaults scaled down so that 30 rows see the ramp: batches of 1, 2, 4, then 8
    monkeypatch.setattr(runs, "DEFAULT_BULK_BATCH", {engine.dialect.name: 8})
    monkeypatch.setattr(runs, "RAMP_FLOOR", 1)
    path = client_file(tmp_path, count=30)
    stored, _ = clients_and_phones(engine)  # the cast's clients
    run_id = create_bulk_run(engine, path, "clients", Actor.system(), mode=ImportMode.PER_ROW)
    checkpoints: list[int] = []

    def die_after_the_fourth_batch(done: int, total: int | None, checkpoint: int) -> None:
        checkpoints.append(checkpoint)
        if len(checkpoints) == 4:
            raise Crash("process killed")

    with pytest.raises(Crash):
        runner.execute(engine, run_id, actor=Actor.system(), progress=die_after_the_fourth_batch)
    # file rows 2-31: batches end at rows 2, 4, 8 and 16
    assert checkpoints == [2, 4, 8, 16]
    assert clients_and_phones(engine) == (stored + 15, stored + 15)
    run = runner.execute(engine, run_id, actor=Actor.system(), progress=die_after_the_fourth_batch)
    # resumed after row 16, ramping again: rows 17, 18-19, 20-23, then 24-31
    assert checkpoints == [2, 4, 8, 16, 17, 19, 23, 31]
    assert (run.status, run.total, run.created) == (RunStatus.DONE, 30, 30)
    assert clients_and_phones(engine) == (stored + 30, stored + 30)


def test_an_import_hands_the_objects_it_froze_back_to_the_collector(engine, people, tmp_path):
    # the objects made before an import are left out of the collector's passes while it
    # runs (runner._older_objects_frozen), also when it fails
    frozen_before = gc.get_freeze_count()
    seen: list[int] = []

    def look_then_die(done: int, total: int | None, checkpoint: int) -> None:
        seen.append(gc.get_freeze_count())
        raise Crash("worker killed")

    run_id = create_bulk_run(engine, client_file(tmp_path), "clients", Actor.system(),
                             mode=ImportMode.PER_ROW, batch_size=4)
    with pytest.raises(Crash):
        runner.execute(engine, run_id, actor=Actor.system(), progress=look_then_die)
    assert seen[0] > frozen_before
    assert gc.get_freeze_count() == frozen_before


def test_an_import_leaves_objects_the_process_froze_itself_frozen(engine, people, tmp_path):
    gc.freeze()  # as a server might after start-up
    try:
        frozen = gc.get_freeze_count()  # (falls as frozen objects are freed, never rises)
        during: list[int] = []
        run_id = create_bulk_run(engine, client_file(tmp_path), "clients", Actor.system(),
                                 mode=ImportMode.PER_ROW)
        run = runner.execute(engine, run_id, actor=Actor.system(),
                             progress=lambda *_: during.append(gc.get_freeze_count()))
        assert (run.status, run.created) == (RunStatus.DONE, 10)
        assert during and max(during) <= frozen  # the import froze nothing more
        assert gc.get_freeze_count() > 0  # nor unfroze what the process had frozen
    finally:
        gc.unfreeze()
