"""Export rate (rows/s) of every export, SQLite and PostgreSQL, beside a plain-SELECT floor.

    python benchmarks/bench_export.py [--rows 200000] [--backends sqlite,postgresql]
        [--entities clients,companies,deals,deal-stages,activities,orders,products,touchpoints]
        [--xlsx clients,orders]

For each store it builds a fresh database with the migrations' schema and fills it with
``--rows`` rows of every entity by ``INSERT … SELECT`` from a numbers table (untimed): as many
clients (every 50th a company, every third person one's contact person, a phone and an
e-mail each, half tagged), deals with one stage change each, activities, orders of two lines
(``--rows`` lines), products and touchpoints (half of unknown visitors). Then, per entity:

* **voronka** — ``transfer.exporter.write`` to a CSV file as the operator: the scope
  conditions, the joins for names, the per-page look-ups (contacts, tags, histories),
  spreadsheet-safe cells, timestamps in the workspace zone; ``--xlsx`` entities also as XLSX;
* **floor** — ``SELECT`` of the main table's columns in id order through the driver's own
  cursor (server-side on PostgreSQL) into ``csv.writer``: no joins, no scope, no cell
  handling — what reading and writing the rows costs at least.

It prints rows/s, the ratio voronka / floor and the process's peak RSS after each export (it
stays flat as rows grow: rows are streamed), and the machine's load before and after.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import Engine, bindparam, text

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.campaign.models import Channel, ChannelKind
from voronka.db import migrate
from voronka.db.session import make_engine, unit_of_work
from voronka.db.types import UTCDateTime
from voronka.pipeline import service as pipelines
from voronka.pipeline.models import StageKind
from voronka.pipeline.schemas import PipelineCreate, StageIn
from voronka.transfer import exporter
from voronka.transfer.exporter import ExportEntity
from voronka.transfer.reading import FileFormat
from voronka.user.models import Role, User
from voronka.workspace.service import ensure_default

PG_ADMIN = os.environ.get("VORONKA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

SEED = [
    # companies: ids n+1 … n+n/50
    """INSERT INTO client (id, workspace_id, kind, name, owner_id, custom_fields, search_text,
         is_deleted, created_at, updated_at, version)
       SELECT :n + i + 1, 1, 'company', 'Компания ' || i, :owner, '{}', '', false, :at, :at, 1
       FROM bench_n WHERE i < :n / 50""",
    """INSERT INTO client (id, workspace_id, kind, name, company_id, job_title, owner_id,
         source_channel_id, custom_fields, search_text, is_deleted, created_at, updated_at,
         version)
       SELECT i + 1, 1, 'person', 'Клиент ' || i,
         CASE WHEN i % 3 = 0 THEN :n + 1 + i % (:n / 50) END, 'Менеджер', :owner, :channel,
         '{}', '', false, :at, :at, 1
       FROM bench_n""",
    """INSERT INTO contact_point (workspace_id, client_id, kind, value, is_primary)
       SELECT 1, i + 1, 'phone', '+79' || (100000000 + i), true FROM bench_n""",
    """INSERT INTO contact_point (workspace_id, client_id, kind, value, is_primary)
       SELECT 1, i + 1, 'email', 'client' || i || '@example.ru', true FROM bench_n""",
    "INSERT INTO client_tag (workspace_id, client_id, tag) "
    "SELECT 1, i + 1, 'vip' FROM bench_n WHERE i % 2 = 0",
    """INSERT INTO product (id, workspace_id, sku, name, price_minor, cost_price_minor, currency,
         unit, is_active, created_at, updated_at, version)
       SELECT i + 1, 1, 'SKU-' || i, 'Товар ' || i, 100000 + i, 50000, 'RUB', 'шт', true,
         :at, :at, 1 FROM bench_n""",
    """INSERT INTO deal (id, workspace_id, title, client_id, pipeline_id, stage_id, status,
         owner_id, amount_minor, currency, channel_id, stage_entered_at, custom_fields,
         is_deleted, created_at, updated_at, version)
       SELECT i + 1, 1, 'Сделка ' || i, i + 1, :pipeline, :stage, 'open', :owner,
         100000 + i, 'RUB', :channel, :at, '{}', false, :at, :at, 1 FROM bench_n""",
    """INSERT INTO deal_stage_change (workspace_id, deal_id, from_stage_id, to_stage_id,
         changed_at, changed_by_id)
       SELECT 1, i + 1, NULL, :stage, :at, :owner FROM bench_n""",
    """INSERT INTO activity (workspace_id, kind, client_id, owner_id, subject, body, occurred_at,
         external_id, direction, call_status, wait_seconds, talk_seconds, is_deleted,
         created_at, updated_at, version)
       SELECT 1, 'call', i + 1, :owner, 'Звонок ' || i, '-скидка', :at, 'call-' || i,
         'inbound', 'answered', 5, i % 900, false, :at, :at, 1 FROM bench_n""",
    """INSERT INTO sales_order (id, workspace_id, number, client_id, owner_id, status,
         total_minor, cost_total_minor, currency, paid_at, is_deleted, created_at, updated_at,
         version)
       SELECT i + 1, 1, 'O-' || i, i + 1, :owner, 'paid', 300000, 100000, 'RUB', :at, false,
         :at, :at, 1 FROM bench_n WHERE i < :n / 2""",
    """INSERT INTO order_line (workspace_id, order_id, product_id, quantity, unit_price_minor,
         unit_cost_minor)
       SELECT 1, i / 2 + 1, i + 1, 1 + i % 2, 100000, 50000 FROM bench_n""",
    """INSERT INTO order_status_change (workspace_id, order_id, from_status, to_status,
         changed_at, changed_by_id)
       SELECT 1, i + 1, NULL, 'paid', :at, :owner FROM bench_n WHERE i < :n / 2""",
    """INSERT INTO touchpoint (workspace_id, visitor_id, client_id, kind, occurred_at,
         channel_id, utm_source, utm_medium, utm_campaign, referrer, landing_page, pages,
         seconds_on_site)
       SELECT 1, 'v-' || i, CASE WHEN i % 2 = 0 THEN i + 1 END, 'visit', :at, :channel,
         'yandex', 'cpc', 'spring', 'https://ya.ru/', 'https://shop.example/', 3, 95
       FROM bench_n""",
]
FLOORS = {
    ExportEntity.CLIENTS: "SELECT id, name, kind, company_id, job_title, owner_id, "
    "source_channel_id, created_at FROM client ORDER BY id",
    ExportEntity.COMPANIES: "SELECT id, name, kind, owner_id, created_at FROM client "
    "WHERE kind = 'company' ORDER BY id",
    ExportEntity.DEALS: "SELECT id, external_id, title, client_id, pipeline_id, stage_id, "
    "status, amount_minor, currency, owner_id, channel_id, created_at, closed_at, "
    "lost_reason FROM deal ORDER BY id",
    ExportEntity.DEAL_STAGES: "SELECT deal_id, from_stage_id, to_stage_id, changed_at, "
    "changed_by_id FROM deal_stage_change ORDER BY id",
    ExportEntity.ACTIVITIES: "SELECT kind, occurred_at, client_id, owner_id, subject, body, "
    "external_id, direction, call_status, wait_seconds, talk_seconds, due_at FROM activity "
    "ORDER BY id",
    ExportEntity.ORDERS: "SELECT order_id, product_id, quantity, unit_price_minor, "
    "unit_cost_minor FROM order_line ORDER BY order_id, id",
    ExportEntity.PRODUCTS: "SELECT sku, name, group_id, price_minor, cost_price_minor, "
    "currency, unit FROM product ORDER BY id",
    ExportEntity.TOUCHPOINTS: "SELECT occurred_at, kind, visitor_id, client_id, channel_id, "
    "utm_source, utm_medium, utm_campaign, referrer, landing_page, pages, seconds_on_site "
    "FROM touchpoint ORDER BY id",
}


def fresh(backend: str, folder: Path) -> Engine:
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{folder / f'bench-{secrets.token_hex(3)}.sqlite3'}")
    else:
        name = f"voronka_exportbench_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        engine = make_engine(f"{base}/{name}")
    migrate.upgrade(engine)
    return engine


def drop(engine: Engine) -> None:
    engine.dispose()
    if engine.dialect.name == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{engine.url.database}" WITH (FORCE)')  # type: ignore[arg-type]


def seed(engine: Engine, rows: int) -> None:
    """``rows`` rows of every entity (untimed), by INSERT … SELECT from a numbers table."""
    with unit_of_work(engine) as session:
        ensure_default(session)
        owner = User(workspace_id=1, email="owner@bench.local", name="Owner", role=Role.ADMIN,
                     password_hash="-")  # fmt: skip
        session.add(owner)
        session.flush()
        session.add(Channel(workspace_id=1, slug="yandex", name="Яндекс",
                            kind=ChannelKind.PAID_SEARCH))  # fmt: skip
        pipeline = pipelines.create(session, actor=Actor.system(), data=PipelineCreate(
            name="Sales", is_default=True,
            stages=[StageIn(name="New"), StageIn(name="Won", kind=StageKind.WON),
                    StageIn(name="Lost", kind=StageKind.LOST)]))  # fmt: skip
        owner_id, pipeline_id = owner.id, pipeline.id
    with engine.begin() as conn:
        channel = conn.execute(text("SELECT id FROM channel")).scalar_one()
        stage = conn.execute(
            text("SELECT min(id) FROM stage WHERE pipeline_id = :p"), {"p": pipeline_id}
        ).scalar_one()
        conn.execute(text("CREATE TABLE bench_n (i BIGINT PRIMARY KEY)"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("INSERT INTO bench_n SELECT generate_series(0, :n - 1)"), {"n": rows})
        else:
            conn.execute(text("WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c "
                              "WHERE i < :n - 1) INSERT INTO bench_n SELECT i FROM c"),
                         {"n": rows})  # fmt: skip
        params = {"n": rows, "owner": owner_id, "channel": channel, "pipeline": pipeline_id,
                  "stage": stage, "at": AT}  # fmt: skip
        for statement in SEED:
            query = text(statement)
            if ":at" in statement:
                query = query.bindparams(bindparam("at", type_=UTCDateTime()))
            wanted = {k: v for k, v in params.items() if f":{k}" in statement}
            conn.execute(query, wanted)
        conn.execute(text("DROP TABLE bench_n"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def timed(work: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = work()
    return time.perf_counter() - started, count


def voronka(engine: Engine, entity: ExportEntity, file_format: FileFormat, path: Path) -> int:
    with unit_of_work(engine, write=False) as session, path.open("wb") as target:
        return exporter.write(session, actor=Actor.system(), scope=Scope.ALL, entity=entity,
                              file_format=file_format, target=target)  # fmt: skip


def floor(engine: Engine, entity: ExportEntity, path: Path) -> int:
    """The plain SELECT streamed by the driver's cursor into csv.writer."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cursor = raw.driver_connection.cursor(name="floor")  # type: ignore[union-attr]
            cursor.itersize = 2000
        else:
            cursor = raw.cursor()
        cursor.execute(FLOORS[entity])
        count = 0
        with path.open("w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target)
            while batch := cursor.fetchmany(2000):
                writer.writerows(batch)
                count += len(batch)
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return count


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--entities", default=",".join(e.value for e in ExportEntity))
    parser.add_argument("--xlsx", default="clients,orders", help="also exported as XLSX")
    args = parser.parse_args()
    entities = [ExportEntity(name) for name in args.entities.split(",")]
    as_xlsx = {ExportEntity(name) for name in args.xlsx.split(",") if name}
    print(f"load before: {uptime()}")
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="voronka-bench-export-") as folder_name:
        folder = Path(folder_name)
        for backend in args.backends.split(","):
            engine = fresh(backend, folder)
            try:
                started = time.perf_counter()
                seed(engine, args.rows)
                print(f"{backend}: seeded {args.rows:,} rows of each in "
                      f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
                for entity in entities:
                    measured = measure(engine, backend, entity, folder, entity in as_xlsx)
                    print("\n".join(measured), flush=True)
                    lines += measured
            finally:
                drop(engine)
    print(f"load after: {uptime()}")
    print()
    print("| store | export | format | rows | voronka rows/s | floor rows/s "
          "| voronka / floor rate | peak RSS MB |")  # fmt: skip
    print("|---|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(lines))


def measure(
    engine: Engine, backend: str, entity: ExportEntity, folder: Path, with_xlsx: bool
) -> list[str]:
    floor_seconds, floor_rows = timed(lambda: floor(engine, entity, folder / "floor.csv"))
    out: list[str] = []
    formats = [FileFormat.CSV, FileFormat.XLSX] if with_xlsx else [FileFormat.CSV]
    for file_format in formats:
        path = folder / f"export.{file_format.value}"
        seconds, rows = timed(lambda f=file_format, p=path: voronka(engine, entity, f, p))
        out.append(
            f"| {backend} | {entity.value} | {file_format.value} | {rows:,} "
            f"| {rows / seconds:,.0f} | {floor_rows / floor_seconds:,.0f} "
            f"| {(rows / seconds) / (floor_rows / floor_seconds):.2f} | {peak_rss_mb():.0f} |"
        )
        path.unlink()
    return out


if __name__ == "__main__":
    main()
