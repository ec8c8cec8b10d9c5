"""Two cores for one import: batches read and prepared in a thread while the database writes.

The runner's connection writes batch *n* (the database server works, this process waits on
its socket without the GIL) while a thread reads batch *n + 1* from the file (Arrow parses
outside the GIL) and, for loaders that offer it, parses and checks it (``Loader.prepare``).
The thread has its own read-only connection for the look-ups ``prepare`` makes (users and
channels, which an import never changes); it writes nothing, so the batch's transaction, the
checkpoint of a resumable run and the modes work exactly as without it. A failure in the
thread is raised in the runner at the batch where it happened.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from voronka.transfer.bulk.base import Context, Loader
from voronka.transfer.reading import RowBatch, SourceRow

#: Batches read ahead of the one being written (each holds ``batch_size`` rows in memory).
DEPTH = 2


def ahead(
    batches: Iterable[list[SourceRow] | RowBatch],
    loader: Loader,
    engine: Engine,
    ctx: Context,
) -> Iterator[Any]:
    """``batches``, each prepared by ``loader`` when it can be, produced by a thread."""
    prepares = getattr(loader, "prepare_ahead", None)
    if prepares is None or not prepares(ctx.mapping):
        return _threaded(lambda: iter(batches))
    columns = list(ctx.mapping.fields)

    def produce() -> Iterator[RowBatch]:
        with engine.connect() as conn:
            session = Session(bind=conn, autoflush=False)
            own = replace(ctx, conn=conn, session=session)  # its own look-ups, cached apart
            own._owners_in_scope = dict(ctx._owners_in_scope)
            try:
                for rows in batches:
                    batch = RowBatch.of_rows(rows, columns)
                    batch.prepared = loader.prepare(own, batch)  # type: ignore[attr-defined]
                    session.close()
                    if conn.in_transaction():
                        conn.rollback()  # hold no snapshot between batches
                    yield batch
            finally:
                session.close()

    return _threaded(produce)


def _threaded(items: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=DEPTH)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items():
                if stop.is_set():
                    return
                slots.put(("item", item))
            slots.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            slots.put(("error", exc))

    worker = threading.Thread(target=run, name="voronka-import-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():  # a producer blocked on a full queue sees the stop
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.05)
        worker.join()
