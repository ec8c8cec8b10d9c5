"""Webhook ingestion: sustained rate and latency of signed call events, SQLite vs PostgreSQL.

    python benchmarks/bench_hooks.py [--events 5000] [--concurrency 32] [--workers 1]
                                     [--process 2000] [--postgres-url URL]

For each store it migrates an empty database, seeds a pipeline and a tracking number, starts
uvicorn (``voronka.web.asgi:app``) on a loopback port in its own process and posts signed
``call.started`` events of the generic format (5 % of them delivered twice, as providers
retry) from keep-alive connections, twice: with one transaction per event
(``VORONKA_HOOKS_GROUP_COMMIT=false``) and with group commit (the default). Each accepted event
is verified, stored raw and has its processing job queued before its answer; the benchmark
checks that exactly the unique events are stored. Printed side by side, measured in the same
run:

* ``GET /api/v1/health`` through the same server (the framework floor: no signature, no
  store);
* a bare insert of the same rows (``inbound_event`` + ``job``, one transaction per event, on
  one connection from this process: the store floor);
* job processing: ``run_pending`` over ``--process`` queued events (each makes a client, a
  lead deal, a call activity, a touchpoint and the call row), one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0b5e"
DUPLICATE_SHARE = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


@dataclass
class Load:
    seconds: float
    latencies_ms: list[float]
    statuses: dict[str, int]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def event_bodies(count: int, *, offset: int = 0) -> list[bytes]:
    bodies = []
    for i in range(offset, offset + count):
        bodies.append(json.dumps({
            "event_id": f"bench-{i}", "event": "call.started", "call_id": f"call-{i}",
            "direction": "inbound", "occurred_at": "2026-11-20T07:15:00Z",
            "started_at": "2026-11-20T07:15:00Z", "caller": f"+7916{1_000_000 + i:07d}",
            "tracking_number": "+74951110001", "extension": "101",
        }).encode())
    return bodies


def signed_requests(bodies: list[bytes], port: int) -> list[bytes]:
    from voronka.integrations.telephony.base import timestamped_signature

    stamp = int(time.time())
    requests = []
    for body in bodies:
        head = (f"POST /api/v1/hooks/generic HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"X-Voronka-Signature: {timestamped_signature(SECRET, stamp, body)}\r\n\r\n")
        requests.append(head.encode() + body)
    return requests


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def fire(port: int, requests: list[bytes], concurrency: int) -> Load:
    """Send ``requests`` over ``concurrency`` keep-alive connections; time each one."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    latencies: list[float] = []
    statuses: dict[str, int] = {}

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while not queue.empty():
            request = queue.get_nowait()
            started = time.perf_counter()
            try:
                writer.write(request)
                status, body = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                # the server dropped the connection: send again, as a provider would (the
                # redelivery is answered from the log), on a new connection
                statuses["reconnects"] = statuses.get("reconnects", 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status, body = await _read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            key = json.loads(body).get("status", "ok") if status == 200 else f"HTTP {status}"
            statuses[key] = statuses.get(key, 0) + 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return Load(time.perf_counter() - started, latencies, statuses)


def prepare_store(url: str) -> None:
    from voronka.access.actor import Actor
    from voronka.campaign.models import Campaign, Channel, ChannelKind, TrackingNumber
    from voronka.db import migrate
    from voronka.db.session import make_engine, unit_of_work
    from voronka.integrations.telephony.service import set_extension
    from voronka.pipeline.models import Pipeline, Stage, StageKind
    from voronka.user.models import Role, User
    from voronka.workspace.service import ensure_default

    engine = make_engine(url)
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        ensure_default(session)
        pipeline = Pipeline(workspace_id=1, name="Sales", is_default=True)
        session.add(pipeline)
        session.flush()
        session.add(Stage(workspace_id=1, pipeline_id=pipeline.id, name="Lead", position=0,
                          kind=StageKind.OPEN))
        channel = Channel(workspace_id=1, slug="direct-ads", name="Ads",
                          kind=ChannelKind.PAID_SEARCH)
        session.add(channel)
        session.flush()
        campaign = Campaign(workspace_id=1, channel_id=channel.id, name="Search")
        session.add(campaign)
        session.flush()
        session.add(TrackingNumber(workspace_id=1, number="+74951110001",
                                   campaign_id=campaign.id))
        manager = User(workspace_id=1, email="m@bench.local", name="M", role=Role.SALES_MANAGER)
        session.add(manager)
        session.flush()
        set_extension(session, actor=Actor.system(1), extension="101", user_id=manager.id)
    engine.dispose()


def start_server(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "voronka.web.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--no-access-log",
             "--timeout-keep-alive", "60",
             "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        )
    for _ in range(3000):  # importing the app takes long on a loaded machine
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"server did not start; see {log}")


def bare_insert(url: str, count: int) -> float:
    """Events/s of inserting the same rows directly, one transaction per event."""
    from sqlalchemy import insert

    from voronka import clock
    from voronka.db.session import make_engine
    from voronka.integrations.inbound import InboundEvent
    from voronka.jobs.models import Job

    engine = make_engine(url)
    bodies = event_bodies(count)
    started = time.perf_counter()
    with engine.connect() as conn:
        for i, body in enumerate(bodies):
            with conn.begin():
                event_id = conn.execute(insert(InboundEvent).values(
                    workspace_id=1, provider="floor", kind="call.started",
                    external_id=f"floor-{i}", received_at=clock.now(), headers={},
                    body=body.decode(), status="received", attempts=0,
                    handler="telephony.process_event").returning(InboundEvent.id)).scalar_one()
                conn.execute(insert(Job).values(
                    kind="telephony.process_event", key=f"floor:{event_id}",
                    payload={"event_id": event_id}, status="queued", attempts=0,
                    max_attempts=3, created_at=clock.now(), run_after=clock.now(),
                    progress_done=0))
    seconds = time.perf_counter() - started
    engine.dispose()
    return count / seconds


def process(url: str, limit: int) -> tuple[int, float]:
    from voronka.db.session import make_engine
    from voronka.jobs import run_pending

    engine = make_engine(url)
    started = time.perf_counter()
    done = run_pending(engine, limit=limit)
    seconds = time.perf_counter() - started
    engine.dispose()
    return done, done / seconds if seconds else 0.0


def stored_events(url: str) -> int:
    from sqlalchemy import func, select

    from voronka.db.session import make_engine
    from voronka.integrations.inbound import InboundEvent

    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(InboundEvent)
                             .where(InboundEvent.provider == "generic")).scalar_one()
    engine.dispose()
    return int(total)


def ingest(name: str, url: str, args: argparse.Namespace, *, group_commit: bool,
           offset: int) -> tuple[Load, Load]:
    """(health floor, ingest) through a fresh server; events numbered from ``offset``."""
    env = {**os.environ, "VORONKA_DATABASE_URL": url, "VORONKA_HOOKS_GENERIC_SECRET": SECRET,
           "VORONKA_EMBEDDED_WORKER": "false",
           "VORONKA_HOOKS_GROUP_COMMIT": "true" if group_commit else "false"}
    port = free_port()
    log = Path(tempfile.mkdtemp()) / f"server-{name}.log"
    server = start_server(env, port, args.workers, log)
    unique = event_bodies(args.events, offset=offset)
    duplicates = unique[:: int(1 / DUPLICATE_SHARE)]
    requests = signed_requests(unique + duplicates, port)
    before = stored_events(url)
    try:
        health = [f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()]
        floor = asyncio.run(fire(port, health * len(requests), args.concurrency))
        load = asyncio.run(fire(port, requests, args.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = stored_events(url) - before
    if stored != len(unique):
        raise SystemExit(f"[{name}] stored {stored} of {len(unique)} unique events; "
                         f"answers {load.statuses}; server log {log}")
    print(f"[{name}, group commit {'on' if group_commit else 'off'}] answers {load.statuses}",
          flush=True)
    return floor, load


def bench_store(name: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    prepare_store(url)
    floor, single = ingest(name, url, args, group_commit=False, offset=0)
    _, grouped = ingest(name, url, args, group_commit=True, offset=args.events)
    insert_rate = bare_insert(url, min(args.events, 3000))
    processed, process_rate = process(url, args.process)
    return {"health": floor, "ingest": single, "grouped": grouped, "insert_rate": insert_rate,
            "processed": processed, "process_rate": process_rate}


def pg_database(base_url: str) -> str:
    import psycopg

    name = "voronka_bench_hooks"
    admin = base_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return base_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--process", type=int, default=2000)
    parser.add_argument("--postgres-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/voronka_bench_hooks")
    args = parser.parse_args()
    print(f"before: {uptime()}", flush=True)
    stores = {"sqlite": f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"}
    if args.postgres_url:
        stores["postgresql"] = pg_database(args.postgres_url)
    results = {name: bench_store(name, url, args) for name, url in stores.items()}
    print(f"after: {uptime()}")
    total = args.events + len(range(0, args.events, int(1 / DUPLICATE_SHARE)))
    print(f"\n{args.events} unique call events + {total - args.events} redeliveries, "
          f"{args.concurrency} connections, {args.workers} server worker(s)")
    print(f"{'':<42}" + "".join(f"{name:>14}" for name in results))
    rows = [
        ("health floor: requests/s", lambda r: f"{r['health'].rate:.0f}"),
        ("health floor: p95 ms", lambda r: f"{percentile(r['health'].latencies_ms, 95):.1f}"),
        ("ingest, one transaction each: events/s", lambda r: f"{r['ingest'].rate:.0f}"),
        ("  p50 ms", lambda r: f"{percentile(r['ingest'].latencies_ms, 50):.1f}"),
        ("  p95 ms", lambda r: f"{percentile(r['ingest'].latencies_ms, 95):.1f}"),
        ("  p99 ms", lambda r: f"{percentile(r['ingest'].latencies_ms, 99):.1f}"),
        ("ingest, group commit: events/s", lambda r: f"{r['grouped'].rate:.0f}"),
        ("  p50 ms", lambda r: f"{percentile(r['grouped'].latencies_ms, 50):.1f}"),
        ("  p95 ms", lambda r: f"{percentile(r['grouped'].latencies_ms, 95):.1f}"),
        ("  p99 ms", lambda r: f"{percentile(r['grouped'].latencies_ms, 99):.1f}"),
        ("bare insert floor: events/s", lambda r: f"{r['insert_rate']:.0f}"),
        ("job processing: events/s", lambda r: f"{r['process_rate']:.1f}"),
    ]
    for label, cell in rows:
        print(f"{label:<42}" + "".join(f"{cell(r):>14}" for r in results.values()))


if __name__ == "__main__":
    main()
