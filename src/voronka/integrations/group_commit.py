"""Group commit for the inbound log: events of many concurrent requests in one transaction.

Each webhook request would otherwise pay a whole transaction (begin, insert, enqueue,
commit with its disk flush) for one small row. A :class:`GroupWriter` has one thread that
takes every event waiting at that moment (up to ``max_batch``), stores them all with
:func:`voronka.integrations.inbound.record_many` in one transaction (one multi-row insert for
the events, one for their jobs) and then wakes each waiting request with its own result. An idle server writes an event at once (a batch of one); under
load, batches grow by themselves. Every request still gets its answer only after its event
is committed. When a batch fails as a whole, each of its events is stored again on its own,
so one bad event cannot fail the others.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Engine

from voronka.db.session import unit_of_work
from voronka.integrations import inbound

log = logging.getLogger(__name__)
MAX_BATCH = 200
ANSWER_TIMEOUT_SECONDS = 30.0


class GroupWriter:
    """One writer thread per process that stores inbound events in batches."""

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[dict[str, Any], Future[inbound.Stored]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def store(self, **fields: Any) -> inbound.Stored:
        """Store one event (the arguments of ``inbound.record``); return once committed."""
        return self.submit(fields).result(timeout=ANSWER_TIMEOUT_SECONDS)

    async def store_async(self, **fields: Any) -> inbound.Stored:
        """:meth:`store` for an event loop: waits without holding a thread."""
        future = asyncio.wrap_future(self.submit(fields))
        return await asyncio.wait_for(future, timeout=ANSWER_TIMEOUT_SECONDS)

    def submit(self, fields: dict[str, Any]) -> Future[inbound.Stored]:
        """Queue one event for the next batch; the future resolves once it is committed."""
        future: Future[inbound.Stored] = Future()
        self._queue.put((fields, future))
        if self._thread is None or not self._thread.is_alive():
            self._start()
        return future

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="voronka-inbound-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[tuple[dict[str, Any], Future[inbound.Stored]]]) -> None:
        try:
            with unit_of_work(self.engine) as session:
                results = inbound.record_many(session, [fields for fields, _ in batch])
        except Exception:  # one event spoiled the batch: store each alone
            log.warning("inbound batch of %d failed; storing its events one by one", len(batch))
            for fields, future in batch:
                try:
                    future.set_result(inbound.store_raw(self.engine, **fields))
                except Exception as exc:  # the request answers with this error
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
