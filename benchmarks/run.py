"""Run every benchmark with sensible defaults and record the machine's load around each.

    python benchmarks/run.py [--only demo,api,reports] [--work-dir /work/bench]
                             [--postgres postgresql+psycopg://postgres@127.0.0.1:5432]

* ``bench_demo.py``: the demo generator, 100,000 clients, SQLite and PostgreSQL;
* ``bench_api.py``: API latency, 100,000 clients, SQLite and PostgreSQL;
* ``bench_reports.py``: the reports, 1,000,000 clients on SQLite (DuckDB over its snapshot)
  and 300,000 on PostgreSQL (DuckDB over its snapshot and PostgreSQL in place);
* ``bench_attribution.py``: exact Markov attribution on 1,000,000 synthetic journeys beside
  ChannelAttribution (needs the ``bench`` extra).

Each benchmark's output goes to ``<work-dir>/<name>.log`` (the reports' figures also to
``<name>.json``), preceded and followed by ``uptime``; the 1-minute load average is sampled
every 10 s while it runs and summarised, because other processes may share the cores. The
PostgreSQL databases (``voronka_bench_*``) are created when missing and dropped at the end,
the SQLite files deleted, unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


@dataclass
class LoadSampler:
    """The 1-minute load average every ``every`` seconds, in a daemon thread."""

    every: float = 10.0
    samples: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> LoadSampler:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def summary(self) -> str:
        if not self.samples:
            return "no samples"
        s = self.samples
        return f"1-min load min {min(s):.1f}, mean {sum(s) / len(s):.1f}, max {max(s):.1f}"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def run_logged(name: str, command: list[str], work: Path) -> int:
    """Run ``command``, teeing its output into ``<work>/<name>.log`` with the load around it."""
    log = work / f"{name}.log"
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    with log.open("w") as out, LoadSampler() as sampler:
        before = uptime()
        out.write(f"$ {' '.join(command)}\nbefore: {before}\n\n")
        out.flush()
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TMPDIR": str(work / "tmp")},
        )
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            out.write(line)
        code = process.wait()
        seconds = time.perf_counter() - started
        after = uptime()
    footer = (
        f"\nafter: {after}\nwall time {seconds:.0f} s; {sampler.summary()} "
        f"({len(sampler.samples)} samples); exit code {code}\n"
    )
    with log.open("a") as out:
        out.write(footer)
    print(f"before: {before}{footer}", flush=True)
    return code


def ensure_database(server: str, name: str) -> str:
    dsn = server.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            con.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rstrip('/')}/{name}"


def drop_database(server: str, name: str) -> None:
    dsn = server.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        default="demo,api,reports,attribution",
        help="comma-separated: demo, api, reports, reports-postgres, attribution",
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/work/bench"))
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL (no database); empty to skip PostgreSQL",
    )
    parser.add_argument(
        "--clients", type=int, default=100_000, help="clients for bench_demo and bench_api"
    )
    parser.add_argument(
        "--report-clients",
        type=int,
        default=1_000_000,
        help="clients of the SQLite store of bench_reports",
    )
    parser.add_argument(
        "--report-postgres-clients",
        type=int,
        default=300_000,
        help="clients of the PostgreSQL store of bench_reports",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="bench_reports: keep the stores' data if they exist"
    )
    parser.add_argument("--keep", action="store_true", help="keep databases and files")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if "reports" in only and args.postgres:
        only.add("reports-postgres")
    work: Path = args.work_dir
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    pg = args.postgres
    databases: list[str] = []
    codes = {}

    def database(name: str) -> list[str]:
        if not pg:
            return []
        databases.append(name)
        return ["--postgres-url", ensure_database(pg, name)]

    if "demo" in only:
        codes["bench_demo"] = run_logged(
            "bench_demo",
            [
                PYTHON,
                str(HERE / "bench_demo.py"),
                "--clients",
                str(args.clients),
                *database("voronka_bench_demo"),
            ],
            work,
        )
    if "api" in only:
        codes["bench_api"] = run_logged(
            "bench_api",
            [
                PYTHON,
                str(HERE / "bench_api.py"),
                "--clients",
                str(args.clients),
                *database("voronka_bench_api"),
            ],
            work,
        )
    sqlite_store = work / "reports.sqlite3"
    if "reports" in only:
        reuse = ["--reuse"] if args.reuse and sqlite_store.exists() else []
        codes["bench_reports_sqlite"] = run_logged(
            "bench_reports_sqlite",
            [
                PYTHON,
                str(HERE / "bench_reports.py"),
                f"sqlite:///{sqlite_store}",
                "--clients",
                str(args.report_clients),
                *reuse,
                "--json",
                str(work / "bench_reports_sqlite.json"),
            ],
            work,
        )
    if "reports-postgres" in only and pg:
        url = database("voronka_bench_reports")[1]
        codes["bench_reports_postgres"] = run_logged(
            "bench_reports_postgres",
            [
                PYTHON,
                str(HERE / "bench_reports.py"),
                url,
                "--clients",
                str(args.report_postgres_clients),
                *(["--reuse"] if args.reuse else []),
                "--json",
                str(work / "bench_reports_postgres.json"),
            ],
            work,
        )
    if "attribution" in only:
        codes["bench_attribution"] = run_logged(
            "bench_attribution", [PYTHON, str(HERE / "bench_attribution.py")], work
        )
    if not args.keep:
        for name in databases:
            drop_database(pg, name)
        if "reports" in only:  # only what this run used: an api-only run keeps the store
            for path in (sqlite_store, Path(f"{sqlite_store}-wal"), Path(f"{sqlite_store}-shm")):
                path.unlink(missing_ok=True)
        shutil.rmtree(work / "tmp", ignore_errors=True)
    print("\nexit codes:", codes)
    sys.exit(max(codes.values(), default=0))


if __name__ == "__main__":
    main()
