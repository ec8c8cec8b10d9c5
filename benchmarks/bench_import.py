"""Bulk import rate (rows/s) of clients and touchpoints, SQLite and PostgreSQL, beside a floor.

    python benchmarks/bench_import.py [--rows 200000] [--service-rows 2000] [--backends sqlite,postgresql]

For each store and entity it times, on a fresh database with the schema built by the
migrations:

* **voronka bulk** — ``voronka import … --bulk``'s engine (``transfer.bulk.runner``) on a
  CSV file: reading, column-wise validation, contact normalisation, staging, deduplication
  and matching in SQL, inserts, per-row mode with a checkpoint per batch;
* **floor** — the same rows already in their stored form, written straight into the same
  tables by ``COPY`` (PostgreSQL) or one ``executemany`` per table (SQLite) on another fresh
  database: no file, no validation, no deduplication — what the database alone costs;
* **row by row** (clients only, on ``--service-rows``) — the domain-service importer
  (``voronka import clients`` without ``--bulk``), the path bulk import replaces.

The machine's load (``uptime``) is printed before and after, since the figures depend on it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.db import migrate
from voronka.db.session import make_engine, unit_of_work
from voronka.transfer import importer, runs
from voronka.transfer.bulk import runner
from voronka.transfer.mapping import Entity
from voronka.transfer.options import ImportMode, ImportOptions
from voronka.transfer.reading import FileFormat
from voronka.workspace.service import ensure_default

PG_ADMIN = os.environ.get("VORONKA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 1, 1, tzinfo=UTC)


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    clients, touchpoints = folder / "clients.csv", folder / "touchpoints.csv"
    with clients.open("w", encoding="utf-8") as out:
        out.write("name,phone,email,tags\n")
        for i in range(rows):
            out.write(f"Клиент {i},8 (9{i % 100:02d}) {i // 100 % 1000:03d}-{i % 97:02d}-"
                      f"{i % 89:02d},client{i}@example.ru,опт;vip\n")
    with touchpoints.open("w", encoding="utf-8") as out:
        out.write("occurred_at,kind,visitor_id,utm_source,utm_campaign,pages,seconds_on_site\n")
        for i in range(rows):
            at = START + timedelta(seconds=37 * i)
            out.write(f"{at:%Y-%m-%d %H:%M:%S},visit,v{i},yandex,brand_{i % 20},{i % 9},"
                      f"{i % 600}\n")
    return clients, touchpoints


def fresh(backend: str, folder: Path) -> Engine:
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{folder / f'bench-{secrets.token_hex(3)}.sqlite3'}")
    else:
        name = f"voronka_bench_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        engine = make_engine(f"{base}/{name}")
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        ensure_default(session)
    return engine


def drop(engine: Engine) -> None:
    engine.dispose()
    if engine.dialect.name == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{engine.url.database}" WITH (FORCE)')  # type: ignore[arg-type]


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def bulk(engine: Engine, path: Path, entity: Entity, batch: int) -> float:
    actor = Actor.system()
    with unit_of_work(engine) as session:
        run_id = runs.create_run(session, actor=actor, entity=entity, file_name=path.name,
                                 file_format=FileFormat.CSV, stored_path=path,
                                 mode=ImportMode.PER_ROW, dry_run=False, batch_size=batch).id

    def work() -> None:
        run = runner.execute(engine, run_id, actor=actor)
        assert run.failed == 0 and run.created == run.total, (run.failed, run.created)

    return timed(work)


def floor_rows(entity: Entity, rows: int, sqlite: bool) -> dict[str, list[tuple[Any, ...]]]:
    """The rows in stored form (what bulk import writes), per table."""
    now = datetime.now(UTC)
    stamp: Any = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
    false: Any = 0 if sqlite else False
    if entity is Entity.CLIENTS:
        clients, contacts, tags = [], [], []
        for i in range(rows):
            phone = f"+79{i % 100:02d}{i // 100 % 1000:03d}{i % 97:02d}{i % 89:02d}"
            email = f"client{i}@example.ru"
            clients.append((i + 1, 1, "person", f"Клиент {i}", "{}",
                            f"клиент {i} {phone} {email} vip опт", false, stamp, stamp, 1))
            contacts += [(1, i + 1, "phone", phone, not false), (1, i + 1, "email", email,
                                                                 not false)]
            tags += [(1, i + 1, "vip"), (1, i + 1, "опт")]
        return {
            "client (id, workspace_id, kind, name, custom_fields, search_text, is_deleted, "
            "created_at, updated_at, version)": clients,
            "contact_point (workspace_id, client_id, kind, value, is_primary)": contacts,
            "client_tag (workspace_id, client_id, tag)": tags,
        }
    points = []
    for i in range(rows):
        at = START + timedelta(seconds=37 * i) - timedelta(hours=3)
        points.append((1, f"v{i}", "visit", at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite
                       else at, "yandex", f"brand_{i % 20}", i % 9, i % 600))
    return {"touchpoint (workspace_id, visitor_id, kind, occurred_at, utm_source, utm_campaign, "
            "pages, seconds_on_site)": points}


def floor(engine: Engine, tables: dict[str, list[tuple[Any, ...]]]) -> float:
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection

        def work() -> None:
            if engine.dialect.name == "sqlite":
                connection.execute("BEGIN")  # type: ignore[union-attr]
                for target, rows in tables.items():
                    marks = ", ".join("?" * len(rows[0]))
                    connection.executemany(f"INSERT INTO {target} VALUES ({marks})", rows)  # type: ignore[union-attr]  # noqa: S608
                connection.execute("COMMIT")  # type: ignore[union-attr]
                return
            with connection.cursor() as cursor:  # type: ignore[union-attr]
                for target, rows in tables.items():
                    with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            connection.commit()  # type: ignore[union-attr]

        return timed(work)
    finally:
        raw.close()


def service(engine: Engine, path: Path, rows: int) -> float:
    small = path.with_name("service.csv")
    with path.open(encoding="utf-8") as source, small.open("w", encoding="utf-8") as out:
        for _ in range(rows + 1):
            out.write(source.readline())

    def work() -> None:
        actor = Actor.system()
        with unit_of_work(engine) as session:
            report = importer.import_file(
                session, actor=actor, scope=Scope.ALL, entity=Entity.CLIENTS, path=small,
                file_format=FileFormat.CSV, options=ImportOptions(mode=ImportMode.PER_ROW))
            assert report.created == rows

    return timed(work)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--service-rows", type=int, default=2_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"load before: {uptime()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="voronka-bench-import-") as folder_name:
        folder = Path(folder_name)
        files = dict(zip((Entity.CLIENTS, Entity.TOUCHPOINTS),
                         write_files(folder, args.rows), strict=True))
        for backend in args.backends.split(","):
            for entity, path in files.items():
                engine = fresh(backend, folder)
                batch = 20_000 if backend == "postgresql" else 10_000
                seconds = bulk(engine, path, entity, batch)
                drop(engine)
                engine = fresh(backend, folder)
                floor_seconds = floor(engine, floor_rows(entity, args.rows,
                                                         backend == "sqlite"))
                drop(engine)
                line = [backend, entity.value, args.rows / seconds, args.rows / floor_seconds]
                if entity is Entity.CLIENTS and args.service_rows:
                    engine = fresh(backend, folder)
                    line.append(args.service_rows / service(engine, path, args.service_rows))
                    drop(engine)
                results.append(line)
    print(f"load after:  {uptime()}")
    print(f"\n{args.rows} rows per import\n")
    print("| store | entity | voronka bulk, rows/s | floor (COPY / executemany), rows/s | "
          "row by row (services), rows/s |")
    print("|---|---|---:|---:|---:|")
    for backend, entity, rate, floor_rate, *service_rate in results:
        shown = f"{service_rate[0]:,.0f}" if service_rate else "—"
        print(f"| {backend} | {entity} | {rate:,.0f} | {floor_rate:,.0f} | {shown} |")


if __name__ == "__main__":
    main()
