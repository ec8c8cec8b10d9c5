"""Engines and the transaction boundary: one request or job is one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from voronka.config import get_settings
from voronka.db.functions import SQLITE_LOWER, sqlite_lower


def _on_sqlite_connect(busy_timeout_ms: int):  # type: ignore[no-untyped-def]
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level lets SQLAlchemy issue BEGIN itself, so that
        # writers can take the lock up front (BEGIN IMMEDIATE) instead of failing late.
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function(SQLITE_LOWER, 1, sqlite_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return configure


def _on_sqlite_begin(conn: Any) -> None:
    writes = conn.get_execution_options().get("voronka_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        settings = get_settings()
        event.listen(engine, "connect", _on_sqlite_connect(settings.sqlite_busy_timeout_ms))
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


#: ``Session.info`` key of objects a read-only transaction asked to write (audit events).
DEFERRED_WRITES = "voronka_deferred_writes"


@contextmanager
def unit_of_work(engine: Engine | None = None, *, write: bool = True) -> Iterator[Session]:
    """Open one transaction: commit when the block ends, roll back on any error.

    A read-only unit (``write=False``) never writes itself: SQLite cannot turn a reader into
    a writer once another connection has committed, so what it records (audit events of the
    reads) is written by a short write transaction right after it.
    """
    base = engine or get_engine()
    with session_factory(base.execution_options(voronka_write=write))() as session:
        session.info["read_only"] = not write
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        deferred = session.info.pop(DEFERRED_WRITES, [])
    if deferred:
        with unit_of_work(base, write=True) as writer:
            writer.add_all(deferred)
