"""Opening the configured analytics engine, and the record scope of an actor.

The snapshot is refreshed when it is older than ``analytics_refresh_seconds``; a lock file
keeps two processes from refreshing it at once (the second waits, then reuses the result).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, require
from voronka.analytics import snapshot, sources
from voronka.analytics.sources import EngineKind, RecordScope, Sources
from voronka.config import Settings, get_settings
from voronka.errors import BadRequest
from voronka.user.models import User

REFRESHED_MARK = "refreshed_at"


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def snapshot_dir(settings: Settings, database_url: str) -> Path:
    """The snapshot folder of one store (two stores never share a snapshot)."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return Path(settings.analytics_dir) / digest


def ensure_snapshot(
    settings: Settings, database_url: str, *, force: bool = False
) -> dict[str, str]:
    """Refresh the snapshot if it is stale; return what was done per table (empty if fresh)."""
    directory = snapshot_dir(settings, database_url)
    mark = directory / REFRESHED_MARK
    with _locked(directory):
        age = time.time() - mark.stat().st_mtime if mark.exists() else float("inf")
        if not force and age < settings.analytics_refresh_seconds:
            return {}
        actions = snapshot.refresh(database_url, directory)
        mark.touch()
        return actions


@lru_cache(maxsize=1)
def spark_session(master: str) -> Any:
    """One Spark session per process (starting one takes seconds)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("voronka")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def open_sources(database_url: str, settings: Settings | None = None) -> Sources:
    """Sources over the store at ``database_url`` on the configured engine.

    DuckDB sources are this thread's, reused while the snapshot is unchanged: never close
    them; :func:`analysis_sources` closes what may be closed.
    """
    settings = settings or get_settings()
    if settings.analytics_engine == "postgres":
        if database_url.startswith("sqlite"):
            raise BadRequest("the postgres analytics engine needs a PostgreSQL store")
        return sources.postgres_sources(database_url, settings.timezone)
    ensure_snapshot(settings, database_url)
    directory = snapshot_dir(settings, database_url)
    if settings.analytics_engine == "spark":
        return sources.spark_sources(
            directory, settings.timezone, spark_session(settings.spark_master)
        )
    return _thread_duckdb_sources(directory, settings.timezone)


@contextmanager
def analysis_sources(database_url: str, settings: Settings | None = None) -> Iterator[Sources]:
    """:func:`open_sources` for one analysis, closing a PostgreSQL connection afterwards (the
    Spark session is the process's, DuckDB sources the thread's)."""
    opened = open_sources(database_url, settings)
    try:
        yield opened
    finally:
        if opened.kind is EngineKind.POSTGRES:
            opened.backend.disconnect()


_THREAD = threading.local()


def _thread_duckdb_sources(directory: Path, timezone: str) -> Sources:
    """DuckDB sources over the snapshot, opened once per thread and snapshot version.

    Opening reads every Parquet file's schema (0.7 s at a million clients), and reports run
    on sources already open find their compiled SQL in the runner's cache.
    """
    key = (str(directory), timezone, _snapshot_version(directory))
    held = getattr(_THREAD, "duckdb", None)
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        held[1].backend.disconnect()
    opened = sources.duckdb_sources(directory, timezone)
    _THREAD.duckdb = (key, opened)
    return opened


def _snapshot_version(directory: Path) -> tuple[int, ...]:
    """Changes with every refresh (its manifest and mark are rewritten)."""
    return tuple(path.stat().st_mtime_ns if path.exists() else 0
                 for path in (directory / snapshot.MANIFEST, directory / REFRESHED_MARK))


def record_scope(session: Session, actor: Actor) -> RecordScope:
    """The clients whose facts ``actor``'s reports may use (policy resource ``report``)."""
    scope = require(actor, "report", Action.READ)
    if scope is Scope.ALL:
        return RecordScope()
    if scope is Scope.TEAM and actor.team_id is not None:
        members = session.scalars(select(User.id).where(User.team_id == actor.team_id))
        return RecordScope(frozenset(members), include_unassigned=True)
    return RecordScope(frozenset({actor.user_id}) if actor.user_id else frozenset())


def store_url(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=False)
