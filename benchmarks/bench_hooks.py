"""Webhook ingestion: sustained rate and latency of signed call events, SQLite vs PostgreSQL.

    python benchmarks/bench_hooks.py [--events 5000] [--concurrency 32] [--workers 2]
                                     [--process 600] [--stores sqlite,postgresql]
                                     [--mix new|realistic] [--known 10000] [--process-only]
                                     [--baseline-src DIR] [--postgres-url URL]

For each store it migrates an empty database, seeds a pipeline and a tracking number, starts
uvicorn (``voronka.web.asgi:app``) on a loopback port in its own processes and posts signed
``call.started`` events of the generic format (5 % of them delivered twice, as providers
retry) from keep-alive connections: with one transaction per event
(``VORONKA_HOOKS_GROUP_COMMIT=false``) and with group commit (the default). Each accepted event
is verified, stored raw and has its processing job queued before its answer; the benchmark
checks that exactly the unique events are stored.

The load generator runs in a process of its own (the server's workers and it share the
cores): requests are built and signed beforehand, each connection writes one and reads the
answer's head and body as bytes, with uvloop when installed.

Printed side by side, measured in the same run:

* ``GET /api/v1/health`` through the same server (the framework floor: no signature, no
  store);
* with ``--baseline-src DIR`` (a copy of an older ``src/``, e.g. ``git archive <commit> src``):
  the same ingestion and job processing by that code, on the server stack of its day (h11,
  asyncio loop) — the "before" column of the same minutes;
* a bare insert of the same rows (``inbound_event`` + ``job``, one transaction per event, on
  one connection from this process: the store floor);
* job processing: ``--process`` queued events, one worker process, with the statements it
  sent per event (each ``executemany`` counted once: psycopg sends its rows in one pipeline)
  and the CPU time of the worker process per event (the store's own work not included): on
  a shared machine the least load-dependent figure.

The events (``--mix``): ``new`` (the default) is one ``call.started`` of a new caller per event,
each making a client, a lead deal, a call activity, a touchpoint and the call row — the worst
case. ``realistic`` is a stream of calls, one every 2 s, 70 % from ``--known`` clients already
in the store (seeded with a phone each, every other one with an open deal), 80 % answered
(``call.started``, ``call.answered``, ``call.ended``) and the rest missed (started, ended),
every event sent when it happens, so a call's events mostly land in different batches.
``--process-only`` stores the events straight into the log (no HTTP) and measures processing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0b5e"
DUPLICATE_SHARE = 0.05
TRACKING = "+74951110001"
KNOWN_SHARE = 0.7  # of calls from clients already in the store (realistic mix)
ANSWERED_SHARE = 0.8


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


def known_number(index: int) -> str:
    """The phone of the ``index``-th client seeded for the realistic mix."""
    return f"+7925{1_000_000 + index:07d}"


def event_bodies(count: int, *, offset: int = 0, mix: str = "new", known: int = 0) -> list[bytes]:
    if mix == "realistic":
        return realistic_bodies(count, offset=offset, known=known)
    bodies = []
    for i in range(offset, offset + count):
        bodies.append(json.dumps({
            "event_id": f"bench-{i}", "event": "call.started", "call_id": f"call-{i}",
            "direction": "inbound", "occurred_at": "2026-11-20T07:15:00Z",
            "started_at": "2026-11-20T07:15:00Z", "caller": f"+7916{1_000_000 + i:07d}",
            "tracking_number": "+74951110001", "extension": "101",
        }).encode())
    return bodies


def _call_events(index: int, rng: random.Random, known: int) -> list[tuple[datetime, dict]]:
    """The events of call ``index`` (started every 2 s from 07:00), each with its time."""
    start = datetime(2026, 11, 20, 7, tzinfo=UTC) + timedelta(seconds=2 * index)
    if known and rng.random() < KNOWN_SHARE:
        caller = known_number(rng.randrange(known))
    else:
        caller = f"+7916{1_000_000 + index:07d}"
    call = {"call_id": f"call-{index}", "direction": "inbound", "caller": caller,
            "tracking_number": TRACKING}
    at = lambda t: t.isoformat().replace("+00:00", "Z")  # noqa: E731
    events = [(start, {**call, "event": "call.started", "occurred_at": at(start),
                       "started_at": at(start)})]
    if rng.random() < ANSWERED_SHARE:
        answered = start + timedelta(seconds=rng.randint(5, 30))
        ended = answered + timedelta(seconds=rng.randint(30, 300))
        events.append((answered, {**call, "event": "call.answered", "extension": "101",
                                  "occurred_at": at(answered), "answered_at": at(answered)}))
        events.append((ended, {**call, "event": "call.ended", "status": "answered",
                               "occurred_at": at(ended), "started_at": at(start),
                               "answered_at": at(answered), "ended_at": at(ended)}))
    else:
        ended = start + timedelta(seconds=rng.randint(10, 60))
        events.append((ended, {**call, "event": "call.ended", "status": "missed",
                               "occurred_at": at(ended), "started_at": at(start),
                               "ended_at": at(ended)}))
    return events


def realistic_bodies(count: int, *, offset: int, known: int) -> list[bytes]:
    """``count`` events of calls numbered from ``offset``, in the order they happen."""
    rng = random.Random(offset)
    timeline: list[tuple[datetime, dict]] = []
    index = offset
    while len(timeline) < count + 200:  # calls still in progress at the end are cut off
        timeline += _call_events(index, rng, known)
        index += 1
    timeline.sort(key=lambda item: item[0])
    return [json.dumps({**body, "event_id": f"bench-{body['call_id']}-{body['event']}"}).encode()
            for _, body in timeline[:count]]


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


def _classify(status: int, body: bytes) -> str:
    if status != 200:
        return f"HTTP {status}"
    for word in ("received", "duplicate", "ignored"):
        if f'"{word}"'.encode() in body:
            return word
    return "ok"


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    at = head.lower().find(b"content-length:")
    length = int(head[at + 15: head.index(b"\r\n", at)]) if at >= 0 else 0
    return status, await reader.readexactly(length)


async def _fire(port: int, requests: list[bytes], concurrency: int) -> Load:
    """Send ``requests`` over ``concurrency`` keep-alive connections; time each one."""
    pending = iter(requests)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    clock = time.perf_counter

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for request in pending:
            started = clock()
            try:
                writer.write(request)
                status, body = await _answer(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                # the server dropped the connection: send again, as a provider would (the
                # redelivery is answered from the log), on a new connection
                statuses["reconnects"] = statuses.get("reconnects", 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status, body = await _answer(reader)
            latencies.append((clock() - started) * 1000)
            key = _classify(status, body)
            statuses[key] = statuses.get(key, 0) + 1
        writer.close()

    started = clock()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return Load(clock() - started, latencies, statuses)


def fire_in_process(port: int, requests: list[bytes], concurrency: int) -> Load:
    """The load generator's process: uvloop when installed, else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_fire(port, requests, concurrency))
    return uvloop.run(_fire(port, requests, concurrency))


def fire(port: int, requests: list[bytes], concurrency: int) -> Load:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fire_in_process, port, requests, concurrency).result()


def prepare_store(url: str, *, known: int = 0) -> None:
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
        stage = Stage(workspace_id=1, pipeline_id=pipeline.id, name="Lead", position=0,
                      kind=StageKind.OPEN)
        session.add(stage)
        channel = Channel(workspace_id=1, slug="direct-ads", name="Ads",
                          kind=ChannelKind.PAID_SEARCH)
        session.add(channel)
        session.flush()
        campaign = Campaign(workspace_id=1, channel_id=channel.id, name="Search")
        session.add(campaign)
        session.flush()
        session.add(TrackingNumber(workspace_id=1, number=TRACKING, campaign_id=campaign.id))
        manager = User(workspace_id=1, email="m@bench.local", name="M", role=Role.SALES_MANAGER)
        session.add(manager)
        session.flush()
        set_extension(session, actor=Actor.system(1), extension="101", user_id=manager.id)
        seed_known_clients(session, known, stage)
    engine.dispose()


def seed_known_clients(session, count: int, stage) -> None:  # type: ignore[no-untyped-def]
    """``count`` clients with a phone each (``known_number``), every other one with an open
    deal: the callers the realistic mix calls back."""
    from voronka import clock
    from voronka.client.models import Client, ClientKind, ContactKind, ContactPoint
    from voronka.deal.models import Deal, DealStatus

    now = clock.now()
    for start in range(0, count, 1000):
        clients = []
        for i in range(start, min(count, start + 1000)):
            client = Client(workspace_id=1, kind=ClientKind.PERSON, name=f"Known {i}",
                            search_text=f"known {i}")
            client.contacts.append(ContactPoint(workspace_id=1, kind=ContactKind.PHONE,
                                                value=known_number(i), is_primary=True))
            clients.append(client)
        session.add_all(clients)
        session.flush()
        session.add_all([
            Deal(workspace_id=1, title=f"Deal of {c.name}", client_id=c.id,
                 pipeline_id=stage.pipeline_id, stage_id=stage.id, status=DealStatus.OPEN,
                 amount=0, stage_entered_at=now, created_at=now)
            for c in clients[::2]
        ])
        session.flush()


def code_env(url: str, src: str | None, *, group_commit: bool = True) -> dict[str, str]:
    """The environment of a server or worker running the current code, or ``src``'s."""
    env = {**os.environ, "VORONKA_DATABASE_URL": url, "VORONKA_HOOKS_GENERIC_SECRET": SECRET,
           "VORONKA_EMBEDDED_WORKER": "false",
           "VORONKA_HOOKS_GROUP_COMMIT": "true" if group_commit else "false"}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(src).resolve()),
                                             env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def start_server(env: dict[str, str], port: int, workers: int, log: Path, *,
                 legacy_stack: bool) -> subprocess.Popen:
    stack = ["--http", "h11", "--loop", "asyncio"] if legacy_stack else []
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "voronka.web.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--no-access-log",
             "--timeout-keep-alive", "60", "--log-level", "warning", *stack],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        )
    for _ in range(3000):  # importing the app takes long on a loaded machine
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        raise SystemExit(f"server did not start; see {log}")
    # every worker builds its routes on its first requests: pay that before timing
    warm = [f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()] * 200
    fire_in_process(port, warm, 8)
    return server


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
                    body=body.decode(), status="processed", attempts=0,
                    handler=None).returning(InboundEvent.id)).scalar_one()
                conn.execute(insert(Job).values(
                    kind="telephony.process_event", key=f"floor:{event_id}",
                    payload={"event_id": event_id}, status="done", attempts=0,
                    max_attempts=3, created_at=clock.now(), run_after=clock.now(),
                    progress_done=0))
    seconds = time.perf_counter() - started
    engine.dispose()
    return count / seconds


#: Run in a fresh worker process (current code or ``--baseline-src``): process at least
#: ``target`` queued events, job by job, counting events done and statements sent.
PROCESS_SCRIPT = """
import json, sys, time
from sqlalchemy import event, func, select
import voronka.db.models  # every table, as in a worker
from voronka.db.session import make_engine
from voronka.integrations.inbound import InboundEvent
from voronka.jobs import run_one
from voronka.jobs.registry import load_handlers
url, target = sys.argv[1], int(sys.argv[2])
load_handlers()  # a worker imports every handler once, at start (seconds: scikit-learn…)
engine = make_engine(url)
def done():
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(InboundEvent).where(
            InboundEvent.provider == "generic", InboundEvent.status != "received")).scalar_one()
statements = [0]
def count(*args):
    statements[0] += 1
before = done()
event.listen(engine, "before_cursor_execute", count)
started, cpu = time.perf_counter(), time.process_time()
jobs = 0
while done() - before < target and run_one(engine):
    jobs += 1
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
event.remove(engine, "before_cursor_execute", count)
events = done() - before
print(json.dumps({"events": events, "jobs": jobs, "seconds": seconds, "cpu": cpu,
                  "statements": statements[0] - jobs - 1}))
"""


def process(url: str, target: int, src: str | None) -> dict[str, float]:
    """Events/s and statements per event of job processing in a worker process."""
    out = subprocess.run([sys.executable, "-c", PROCESS_SCRIPT, url, str(target)],
                         env=code_env(url, src), capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"processing failed:\n{out.stderr[-3000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    events = figures["events"] or 1
    return {"rate": figures["events"] / figures["seconds"],
            "statements": figures["statements"] / events, "events": figures["events"],
            "cpu_ms": 1000 * figures["cpu"] / events}


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


def ingest(label: str, url: str, args: argparse.Namespace, *, offset: int,
           group_commit: bool = True, src: str | None = None) -> tuple[Load, Load]:
    """(health floor, ingest) through a fresh server; events numbered from ``offset``."""
    port = free_port()
    log = Path(tempfile.mkdtemp()) / "server.log"
    server = start_server(code_env(url, src, group_commit=group_commit), port, args.workers,
                          log, legacy_stack=src is not None)
    unique = event_bodies(args.events, offset=offset, mix=args.mix, known=args.known)
    duplicates = unique[:: int(1 / DUPLICATE_SHARE)]
    requests = signed_requests(unique + duplicates, port)
    before = stored_events(url)
    try:
        health = [f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()]
        floor = fire(port, health * len(requests), args.concurrency)
        load = fire(port, requests, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = stored_events(url) - before
    if stored != len(unique) or load.statuses.get("duplicate") != len(duplicates):
        raise SystemExit(f"[{label}] stored {stored} of {len(unique)} unique events; "
                         f"answers {load.statuses}; server log {log}")
    print(f"[{label}] {load.rate:.0f} events/s, answers {load.statuses}; "
          f"health {floor.rate:.0f}/s", flush=True)
    return floor, load


def store_directly(url: str, bodies: list[bytes]) -> None:
    """Put events in the log with their jobs as the receiver would, without HTTP."""
    from voronka.db.session import make_engine, unit_of_work
    from voronka.integrations import inbound

    engine = make_engine(url)
    for start in range(0, len(bodies), 500):
        with unit_of_work(engine) as session:
            inbound.record_many(session, [
                {"workspace_id": 1, "provider": "generic", "kind": json.loads(body)["event"],
                 "external_id": json.loads(body)["event_id"], "body": body.decode(),
                 "process_with": "telephony.process_event"}
                for body in bodies[start:start + 500]])
    engine.dispose()


def bench_store(name: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    prepare_store(url, known=args.known if args.mix == "realistic" else 0)
    out: dict[str, object] = {}
    offset = 0
    if args.process_only:
        runs = 2 if args.baseline_src else 1
        store_directly(url, event_bodies(args.process * runs, mix=args.mix, known=args.known))
        if args.baseline_src:
            out["process_before"] = process(url, args.process, args.baseline_src)
        out["process"] = process(url, args.process, None)
        return out
    if args.baseline_src:
        out["health_before"], out["before"] = ingest(f"{name}, before", url, args,
                                                     offset=offset, src=args.baseline_src)
        offset += args.events
    out["health"], out["single"] = ingest(f"{name}, one transaction each", url, args,
                                          offset=offset, group_commit=False)
    offset += args.events
    _, out["grouped"] = ingest(f"{name}, group commit", url, args, offset=offset)
    out["insert_rate"] = bare_insert(url, min(args.events, 3000))
    if args.baseline_src:
        out["process_before"] = process(url, args.process, args.baseline_src)
    out["process"] = process(url, args.process, None)
    return out


def pg_database(base_url: str) -> str:
    import psycopg

    name = base_url.rsplit("/", 1)[1]
    admin = base_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return base_url.rsplit("/", 1)[0] + f"/{name}"


def _ms(load_of: str, q: int):  # type: ignore[no-untyped-def]
    return lambda r: f"{percentile(r[load_of].latencies_ms, q):.1f}" if load_of in r else "–"


def _rate(load_of: str):  # type: ignore[no-untyped-def]
    return lambda r: f"{r[load_of].rate:.0f}" if load_of in r else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--process", type=int, default=600,
                        help="queued events to process per code version")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--mix", choices=("new", "realistic"), default="new",
                        help="new callers only, or calls of known and new callers (see above)")
    parser.add_argument("--known", type=int, default=10000,
                        help="clients in the store the realistic mix calls back")
    parser.add_argument("--process-only", action="store_true",
                        help="store the events without HTTP and measure processing only")
    parser.add_argument("--baseline-src", default=None,
                        help="an older src/ directory to measure side by side")
    parser.add_argument("--postgres-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/voronka_bench_hooks")
    args = parser.parse_args()
    print(f"before: {uptime()}", flush=True)
    stores = {}
    if "sqlite" in args.stores:
        stores["sqlite"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    if "postgresql" in args.stores:
        stores["postgresql"] = pg_database(args.postgres_url)
    results = {name: bench_store(name, url, args) for name, url in stores.items()}
    print(f"after: {uptime()}")
    total = args.events + len(range(0, args.events, int(1 / DUPLICATE_SHARE)))
    if args.process_only:
        print(f"\n{args.process} events processed per code version, mix {args.mix!r}")
    else:
        print(f"\n{args.events} unique call events + {total - args.events} redeliveries per run, "
              f"{args.concurrency} connections, {args.workers} server worker(s), "
              f"mix {args.mix!r}")
    print(f"{'':<46}" + "".join(f"{name:>14}" for name in results))
    rows = [
        ("health floor: requests/s", _rate("health")),
        ("health floor: p95 ms", _ms("health", 95)),
        ("before (baseline src, h11): health req/s", _rate("health_before")),
        ("before: ingest, group commit: events/s", _rate("before")),
        ("  p50 ms", _ms("before", 50)),
        ("  p95 ms", _ms("before", 95)),
        ("  p99 ms", _ms("before", 99)),
        ("ingest, one transaction each: events/s", _rate("single")),
        ("  p50 ms", _ms("single", 50)),
        ("  p95 ms", _ms("single", 95)),
        ("  p99 ms", _ms("single", 99)),
        ("ingest, group commit: events/s", _rate("grouped")),
        ("  p50 ms", _ms("grouped", 50)),
        ("  p95 ms", _ms("grouped", 95)),
        ("  p99 ms", _ms("grouped", 99)),
        ("bare insert floor: events/s",
         lambda r: f"{r['insert_rate']:.0f}" if "insert_rate" in r else "–"),
        ("before: job processing: events/s",
         lambda r: f"{r['process_before']['rate']:.1f}" if "process_before" in r else "–"),
        ("  statements per event",
         lambda r: f"{r['process_before']['statements']:.1f}" if "process_before" in r else "–"),
        ("  worker CPU ms per event",
         lambda r: f"{r['process_before']['cpu_ms']:.2f}" if "process_before" in r else "–"),
        ("job processing: events/s", lambda r: f"{r['process']['rate']:.1f}"),
        ("  statements per event", lambda r: f"{r['process']['statements']:.1f}"),
        ("  worker CPU ms per event", lambda r: f"{r['process']['cpu_ms']:.2f}"),
    ]
    for label, cell in rows:
        print(f"{label:<46}" + "".join(f"{cell(r):>14}" for r in results.values()))


if __name__ == "__main__":
    main()
