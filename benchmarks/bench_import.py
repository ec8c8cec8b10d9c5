"""Bulk import rate (rows/s) of every bulk entity, SQLite and PostgreSQL, beside a floor.

    python benchmarks/bench_import.py [--rows 200000] [--service-rows 2000]
        [--backends sqlite,postgresql] [--entities clients,touchpoints,products,activities,orders,deals]
        [--batch-size N] [--no-floor]

For each store and entity it times, on a fresh database with the schema built by the
migrations (orders and deals: with their clients, products and pipeline stored first,
untimed):

* **voronka bulk** — ``voronka import … --bulk``'s engine (``transfer.bulk.runner``) on a
  CSV file: reading, column-wise validation, contact normalisation, staging, deduplication
  and matching in SQL, inserts, per-row mode with a checkpoint per batch, batches of the
  store's default size unless ``--batch-size`` names one;
* **floor** (clients, touchpoints, products, activities) — the same rows already in their
  stored form, written straight into the same tables by ``COPY`` (PostgreSQL) or one
  ``executemany`` per table (SQLite) on another fresh database: no file, no validation, no
  deduplication — what the database alone costs;
* **row by row** (clients only, on ``--service-rows``) — the domain-service importer
  (``voronka import clients`` without ``--bulk``), the path bulk import replaces.

The machine's load (``uptime``) is printed before and after, since the figures depend on it.
Beside the bulk rate it prints the CPU time per imported row of this process (both of the
import's threads) and, on PostgreSQL, of the database backends serving the import
(``/proc/<pid>/stat`` of the client backends connected to the bench database): on a shared
machine these move far less with the neighbours' load than the wall clock does. The process
is warmed up first (``warm_up``), so every entity is timed as a long-lived worker runs it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.db import migrate
from voronka.db.session import make_engine, unit_of_work
from voronka.pipeline import service as pipelines
from voronka.pipeline.models import StageKind
from voronka.pipeline.schemas import PipelineCreate, StageIn
from voronka.transfer import importer, runs
from voronka.transfer.bulk import runner
from voronka.transfer.mapping import Entity
from voronka.transfer.options import ImportMode, ImportOptions
from voronka.transfer.reading import FileFormat
from voronka.workspace.service import ensure_default

PG_ADMIN = os.environ.get("VORONKA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 1, 1, tzinfo=UTC)


def write_file(folder: Path, entity: Entity, rows: int) -> Path:
    """A CSV file of ``rows`` rows of ``entity``, as an export from another system might be."""
    path = folder / f"{entity.value}.csv"
    header, line = FILES[entity]
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        for i in range(rows):
            out.write(line(i) + "\n")
    return path


def _phone(i: int) -> str:
    return f"8 (9{i % 100:02d}) {i // 100 % 1000:03d}-{i % 97:02d}-{i % 89:02d}"


def _at(i: int) -> str:
    return f"{START + timedelta(seconds=37 * i):%Y-%m-%d %H:%M:%S}"


FILES: dict[Entity, tuple[str, Callable[[int], str]]] = {
    Entity.CLIENTS: ("name,phone,email,tags",
                     lambda i: f"Клиент {i},{_phone(i)},client{i}@example.ru,опт;vip"),
    Entity.TOUCHPOINTS: (
        "occurred_at,kind,visitor_id,utm_source,utm_campaign,pages,seconds_on_site",
        lambda i: f"{_at(i)},visit,v{i},yandex,brand_{i % 20},{i % 9},{i % 600}"),
    Entity.PRODUCTS: ("sku,name,group,price,cost_price,currency,unit",
                      lambda i: f"SKU-{i:07d},Товар {i},Группа {i % 50},"
                                f"\"{i % 9000 + 100},{i % 100:02d}\",{i % 5000 + 50}.00,RUB,шт"),
    Entity.ACTIVITIES: (
        "kind,occurred_at,subject,direction,call_status,talk_seconds,external_id",
        lambda i: f"call,{_at(i)},Звонок {i},inbound,answered,{i % 900},call-{i}"),
    # two lines per order, of clients and products stored first (``seed``)
    Entity.ORDERS: ("number,phone,sku,quantity,unit_price,status,ordered_at",
                    lambda i: f"A-{i // 2},+79{i // 2 % 1000:09d},SKU-{i % 1000:07d},"
                              f"{i % 5 + 1},{i % 900 + 100}.00,paid,{_at(i // 2)}"),
    Entity.DEALS: ("external_id,title,phone,amount,stage,created_at,stage_history",
                   lambda i: f"D-{i},Сделка {i},+79{i % 1000:09d},{i % 9000 + 1000},Won,"
                             f"{_at(i)},New {_at(i)}; Won {_at(i + 1)}"),
}


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


@dataclass
class Cost:
    """Wall time and CPU time (this process; the database backends, PostgreSQL only)."""

    seconds: float
    python_cpu: float
    database_cpu: float | None


def measured(engine: Engine, work: Callable[[], Any]) -> Cost:
    backends_before = backend_cpu(engine)
    cpu_before = time.process_time()
    seconds = timed(work)
    python_cpu = time.process_time() - cpu_before
    backends_after = backend_cpu(engine)
    if backends_after is None or backends_before is None:
        return Cost(seconds, python_cpu, None)
    database_cpu = sum(
        cpu - backends_before.get(pid, 0.0) for pid, cpu in backends_after.items()
    )
    return Cost(seconds, python_cpu, database_cpu)


def backend_cpu(engine: Engine) -> dict[int, float] | None:
    """CPU seconds so far of each client backend connected to the engine's database."""
    if engine.dialect.name != "postgresql":
        return None
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        pids = [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            " AND backend_type = 'client backend'", (engine.url.database,))]
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # the backend ended meanwhile
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return seconds


def bulk(engine: Engine, path: Path, entity: Entity, batch: int | None) -> Cost:
    actor = Actor.system()
    with unit_of_work(engine) as session:
        run_id = runs.create_run(session, actor=actor, entity=entity, file_name=path.name,
                                 file_format=FileFormat.CSV, stored_path=path,
                                 mode=ImportMode.PER_ROW, dry_run=False, batch_size=batch).id

    def work() -> None:
        run = runner.execute(engine, run_id, actor=actor)
        assert run.failed == 0 and run.created == run.total, (run.created, run.errors[:3])

    return measured(engine, work)


def seed(engine: Engine, entity: Entity, folder: Path) -> None:
    """What the orders and deals files name: 1,000 clients (phones +79000000000…) and 1,000
    products (SKU-0000000…), and a default pipeline New → Won | Lost."""
    if entity not in (Entity.ORDERS, Entity.DEALS):
        return
    clients = folder / "seed-clients.csv"
    clients.write_text("name,phone\n" + "".join(f"Клиент {i},+79{i:09d}\n" for i in range(1000)),
                       encoding="utf-8")
    bulk(engine, clients, Entity.CLIENTS, 1000)
    products = folder / "seed-products.csv"
    products.write_text("sku,name,price\n" + "".join(
        f"SKU-{i:07d},Товар {i},{i % 900 + 100}.00\n" for i in range(1000)), encoding="utf-8")
    bulk(engine, products, Entity.PRODUCTS, 1000)
    with unit_of_work(engine) as session:
        pipelines.create(session, actor=Actor.system(), data=PipelineCreate(
            name="Sales", is_default=True,
            stages=[StageIn(name="New"), StageIn(name="Won", kind=StageKind.WON),
                    StageIn(name="Lost", kind=StageKind.LOST)]))


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
    def at(i: int) -> Any:
        moment = START + timedelta(seconds=37 * i) - timedelta(hours=3)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment

    if entity is Entity.PRODUCTS:
        groups = [(1, f"Группа {g}", stamp, stamp, 1) for g in range(50)]
        products = [(1, f"SKU-{i:07d}", f"Товар {i}", i % 50 + 1, (i % 9000 + 100) * 100
                     + i % 100, (i % 5000 + 50) * 100, "RUB", "шт", not false, stamp, stamp, 1)
                    for i in range(rows)]
        return {
            "product_group (workspace_id, name, created_at, updated_at, version)": groups,
            "product (workspace_id, sku, name, group_id, price_minor, cost_price_minor, "
            "currency, unit, is_active, created_at, updated_at, version)": products,
        }
    if entity is Entity.ACTIVITIES:
        activities = [(1, "call", None, f"Звонок {i}", at(i), f"call-{i}", "inbound",
                       "answered", i % 900, false, stamp, stamp, 1) for i in range(rows)]
        return {"activity (workspace_id, kind, owner_id, subject, occurred_at, external_id, "
                "direction, call_status, talk_seconds, is_deleted, created_at, updated_at, "
                "version)": activities}
    points = [(1, f"v{i}", "visit", at(i), "yandex", f"brand_{i % 20}", i % 9, i % 600)
              for i in range(rows)]
    return {"touchpoint (workspace_id, visitor_id, kind, occurred_at, utm_source, utm_campaign, "
            "pages, seconds_on_site)": points}


def floor(engine: Engine, tables: dict[str, list[tuple[Any, ...]]]) -> Cost:
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

        return measured(engine, work)
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


def warm_up() -> None:
    """Pay the process's one-time import costs before timing, as a long-lived worker has:
    pyarrow (the CSV reader), and pandas, which pyarrow imports at its first conversion of a
    datetime (about 0.8 s together, which otherwise lands on whichever entity runs first)."""
    import pyarrow as pa

    pa.array([START], type=pa.timestamp("us", tz="UTC"))


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


FLOORED = (Entity.CLIENTS, Entity.TOUCHPOINTS, Entity.PRODUCTS, Entity.ACTIVITIES)
ENTITIES = "clients,touchpoints,products,activities,orders,deals"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--service-rows", type=int, default=2_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--entities", default=ENTITIES)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="rows per batch (default: none named, so the store's default, as "
                             "`voronka import --bulk` without --batch-size)")
    parser.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the COPY / executemany floor (--no-floor skips it)")
    args = parser.parse_args()
    entities = [Entity(name) for name in args.entities.split(",")]
    warm_up()
    print(f"load before: {uptime()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="voronka-bench-import-") as folder_name:
        folder = Path(folder_name)
        files = {entity: write_file(folder, entity, args.rows) for entity in entities}
        for backend in args.backends.split(","):
            for entity, path in files.items():
                engine = fresh(backend, folder)
                seed(engine, entity, folder)
                cost = bulk(engine, path, entity, args.batch_size)
                drop(engine)
                line: list[Any] = [backend, entity.value, args.rows / cost.seconds, None, None,
                                   cost]
                if entity in FLOORED and args.floor:
                    engine = fresh(backend, folder)
                    tables = floor_rows(entity, args.rows, backend == "sqlite")
                    floor_cost = floor(engine, tables)
                    line[3] = args.rows / floor_cost.seconds
                    drop(engine)
                    print(f"  {backend} {entity.value} floor: {line[3]:,.0f} rows/s, CPU per row "
                          f"{per_row(floor_cost, args.rows)}", flush=True)
                if entity is Entity.CLIENTS and args.service_rows:
                    engine = fresh(backend, folder)
                    line[4] = args.service_rows / service(engine, path, args.service_rows)
                    drop(engine)
                print(f"  {backend} {entity.value}: {line[2]:,.0f} rows/s, CPU per row "
                      f"{per_row(cost, args.rows)}", flush=True)
                results.append(line)
    print(f"load after:  {uptime()}")
    print(f"\n{args.rows} rows per import\n")
    print("| store | entity | voronka bulk, rows/s | floor (COPY / executemany), rows/s | "
          "bulk ÷ floor | row by row (services), rows/s | bulk CPU per row |")
    print("|---|---|---:|---:|---:|---:|---|")
    for backend, entity, rate, floor_rate, service_rate, cost in results:
        shown_floor = f"{floor_rate:,.0f}" if floor_rate else "—"
        ratio = f"{rate / floor_rate:.2f}" if floor_rate else "—"
        shown = f"{service_rate:,.0f}" if service_rate else "—"
        print(f"| {backend} | {entity} | {rate:,.0f} | {shown_floor} | {ratio} | {shown} | "
              f"{per_row(cost, args.rows)} |")


def per_row(cost: Cost, rows: int) -> str:
    """CPU microseconds per row: this process, and the database backends when measured."""
    shown = f"Python {cost.python_cpu / rows * 1e6:.1f} µs"
    if cost.database_cpu is not None:
        shown += f", PostgreSQL {cost.database_cpu / rows * 1e6:.1f} µs"
    return shown


if __name__ == "__main__":
    main()
