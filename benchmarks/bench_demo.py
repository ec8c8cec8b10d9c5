"""Time ``voronka.demo.generate`` and compare its write rates with the raw floor.

    python benchmarks/bench_demo.py --clients 100000 [--postgres-url URL]

Builds the demo company into a fresh SQLite file (and into the PostgreSQL database at URL,
whose data is replaced), then prints rows per second per table. The baseline, measured in
the same run, is the touchpoint table's rows read back as ready tuples and written again by a
plain ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) into a copy of the table with only its
primary key, with the same session settings: the floor the generator, which also draws and
formats the data, should not beat (it writes constants as literals, so on SQLite it can come
close).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

import psycopg

from voronka.db import migrate
from voronka.db.session import make_engine
from voronka.demo import DemoSummary, generate
from voronka.demo.loader import SQLITE_LOAD_CACHE_KIB

#: Rows per transaction in the baseline: about what the generator commits per table and chunk.
BASELINE_COMMIT_ROWS = 400_000
TOUCHPOINT_COLUMNS = (
    "id, workspace_id, visitor_id, client_id, kind, occurred_at, channel_id, campaign_id, "
    "utm_source, utm_medium, utm_campaign, referrer, landing_page, pages, seconds_on_site"
)


def run_generator(url: str, clients: int, seed: int) -> DemoSummary:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        return generate(engine, clients=clients, seed=seed)
    finally:
        engine.dispose()


def sqlite_baseline(path: Path) -> tuple[int, float]:
    """Re-insert the touchpoints as ready tuples into a bare copy of the table.

    Same settings as the generator's load (page cache, ``synchronous=OFF``, a commit per
    ``BASELINE_COMMIT_ROWS``), so the only difference left is the work of making the rows.
    """
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        rows = connection.execute(f"SELECT {TOUCHPOINT_COLUMNS} FROM touchpoint").fetchall()  # noqa: S608
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(f"PRAGMA cache_size={SQLITE_LOAD_CACHE_KIB}")
        connection.execute("DROP TABLE IF EXISTS bench_touchpoint")
        # The same definition (key, checks); this plain connection does not enforce foreign keys.
        (definition,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'touchpoint'"
        ).fetchone()
        connection.execute(
            definition.replace("CREATE TABLE touchpoint", "CREATE TABLE bench_touchpoint", 1)
        )
        marks = ", ".join("?" * len(TOUCHPOINT_COLUMNS.split(",")))
        insert = f"INSERT INTO bench_touchpoint ({TOUCHPOINT_COLUMNS}) VALUES ({marks})"  # noqa: S608
        started = time.perf_counter()
        for start in range(0, len(rows), BASELINE_COMMIT_ROWS):
            connection.execute("BEGIN")
            connection.executemany(insert, rows[start : start + BASELINE_COMMIT_ROWS])
            connection.execute("COMMIT")
        seconds = time.perf_counter() - started
        connection.execute("DROP TABLE bench_touchpoint")
    return len(rows), seconds


def postgres_baseline(url: str) -> tuple[int, float]:
    """COPY the touchpoints, read back as text and numbers, into a keyed copy of the table."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    # The generator hands COPY timestamps as text, so the baseline does too.
    columns = TOUCHPOINT_COLUMNS.replace("occurred_at", "occurred_at::text")
    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(f"SELECT {columns} FROM touchpoint").fetchall()  # noqa: S608
        connection.execute("DROP TABLE IF EXISTS bench_touchpoint")
        connection.execute(
            "CREATE TABLE bench_touchpoint (LIKE touchpoint INCLUDING DEFAULTS "
            "INCLUDING CONSTRAINTS, PRIMARY KEY (id))"
        )
        started = time.perf_counter()
        for start in range(0, len(rows), BASELINE_COMMIT_ROWS):
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                with cursor.copy(
                    f"COPY bench_touchpoint ({TOUCHPOINT_COLUMNS}) FROM STDIN"
                ) as copy:
                    for row in rows[start : start + BASELINE_COMMIT_ROWS]:
                        copy.write_row(row)
        seconds = time.perf_counter() - started
        connection.execute("DROP TABLE bench_touchpoint")
    return len(rows), seconds


def report(results: dict[str, tuple[DemoSummary, tuple[int, float]]]) -> None:
    engines = list(results)
    print(f"{'table':<22}{'rows':>11}" + "".join(f"{e + ' rows/s':>20}" for e in engines))
    first = results[engines[0]][0]
    for table, count in sorted(first.rows.items(), key=lambda item: -item[1]):
        rates = [
            results[e][0].rows.get(table, 0)
            / max(results[e][0].write_seconds.get(table, 0.0), 1e-9)
            for e in engines
        ]
        print(f"{table:<22}{count:>11,}" + "".join(f"{rate:>20,.0f}" for rate in rates))
    print(
        f"{'baseline touchpoint':<22}{results[engines[0]][1][0]:>11,}"
        + "".join(f"{results[e][1][0] / results[e][1][1]:>20,.0f}" for e in engines)
    )
    print(
        f"{'all tables, end to end':<22}{first.total_rows:>11,}"
        + "".join(f"{results[e][0].rows_per_second:>20,.0f}" for e in engines)
    )
    print(
        f"{'seconds, end to end':<22}{'':>11}"
        + "".join(f"{results[e][0].seconds:>20,.1f}" for e in engines)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--postgres-url", help="a PostgreSQL database whose data is replaced")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.sqlite3"
        results["sqlite"] = (
            run_generator(f"sqlite:///{path}", args.clients, args.seed),
            sqlite_baseline(path),
        )
    if args.postgres_url:
        results["postgresql"] = (
            run_generator(args.postgres_url, args.clients, args.seed),
            postgres_baseline(args.postgres_url),
        )
    report(results)


if __name__ == "__main__":
    main()
