"""Site tracker ingestion cost per hit, SQLite vs PostgreSQL, with the store floor beside it.

    python benchmarks/bench_tracker.py [--visitors 200] [--hits 10] [--postgres-url URL]

For each store it migrates an empty database, seeds a site, a campaign and a pool of 20
dynamic numbers, and then, in this process (no HTTP: the web layer's floor is in bench_hooks
and bench_api), measures per call:

* ``store floor``: :func:`voronka.integrations.inbound.store_raw` of the same hit bodies (one
  transaction each), what any ingestion path pays at least;
* ``hit``: :func:`voronka.tracking.receive.receive_hit` — checks, raw store, then the visit
  update in a second transaction (``--visitors`` × ``--hits``: a page view, heartbeats, a
  leave; every tenth visitor from a UTM campaign);
* ``number``: :func:`voronka.tracking.receive.ask_number` once per visitor (20 numbers: the
  pool runs out, so fallbacks are measured too);
* ``close``: :func:`voronka.tracking.service.close_idle_visits` writing every visit's touchpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("VORONKA_TRACKING_RATE_BURST", "1000000")

from voronka import clock  # noqa: E402
from voronka.access.actor import Actor  # noqa: E402
from voronka.campaign import service as marketing  # noqa: E402
from voronka.campaign.models import TrackingKind  # noqa: E402
from voronka.campaign.schemas import (  # noqa: E402
    CampaignCreate,
    ChannelCreate,
    TrackingNumberCreate,
)
from voronka.db import migrate  # noqa: E402
from voronka.db.session import make_engine, unit_of_work  # noqa: E402
from voronka.integrations import inbound  # noqa: E402
from voronka.tracking import receive, service, sites  # noqa: E402
from voronka.tracking.schemas import Hit, NumberAsk, SiteCreate  # noqa: E402
from voronka.workspace.service import ensure_default  # noqa: E402

ORIGIN = "https://shop.example"
SIGNALS = {"screen": "1920x1080", "tz": "Europe/Moscow", "lang": "ru-RU", "webdriver": False}
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def seed(engine) -> str:
    actor = Actor.system(1)
    with unit_of_work(engine) as session:
        ensure_default(session)
        channel = marketing.create_channel(session, actor=actor, data=ChannelCreate(
            slug="direct", name="Direct", kind="paid_search", is_paid=True))
        marketing.create_campaign(session, actor=actor, data=CampaignCreate(
            channel_id=channel.id, name="spring", utm_source="yandex", utm_medium="cpc",
            utm_campaign="spring"))
        for n in range(20):
            marketing.create_tracking_number(session, actor=actor, data=TrackingNumberCreate(
                number=f"+7495000{n:04d}", kind=TrackingKind.DYNAMIC, channel_id=channel.id))
        site = sites.create_site(session, actor=actor, data=SiteCreate(
            name="Shop", allowed_origins=[ORIGIN]))
        return site.site_key


def hits(site_key: str, visitors: int, per_visitor: int) -> list[tuple[datetime, bytes]]:
    """(time, body) of every hit, in time order: visitors arrive one per 10 s."""
    out = []
    for v in range(visitors):
        url = f"{ORIGIN}/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring" if v % 10 == 0 \
            else f"{ORIGIN}/catalog"
        for h in range(per_visitor):
            kind = "pageview" if h == 0 else "leave" if h == per_visitor - 1 else "heartbeat"
            body = {"site": site_key, "visitor": f"bench-visitor-{v:08d}", "type": kind,
                    "view": f"view-{v:08d}", "url": url, "seconds": h * 15, "signals": SIGNALS}
            out.append((START + timedelta(seconds=10 * v + 15 * h), json.dumps(body).encode()))
    return sorted(out, key=lambda item: item[0])


def timed(calls: list[Callable[[], object]]) -> list[float]:
    took = []
    for call in calls:
        began = time.perf_counter()
        call()
        took.append((time.perf_counter() - began) * 1000)
    return took


def summary(name: str, ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=100)[94] if len(ms) > 1 else ms[0]
    rate = len(ms) / (sum(ms) / 1000)
    return (f"  {name:<12} {len(ms):>6} calls  {rate:>8.0f}/s  median {statistics.median(ms):6.2f} ms"
            f"  p95 {p95:6.2f} ms")


def run_store(label: str, url: str, visitors: int, per_visitor: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    site_key = seed(engine)
    stream = hits(site_key, visitors, per_visitor)
    print(f"{label}: {len(stream)} hits of {visitors} visitors — {uptime()}")

    def floor(at: datetime, body: bytes, n: int) -> Callable[[], object]:
        return lambda: inbound.store_raw(engine, workspace_id=1, provider="floor", kind="x",
                                         external_id=f"floor-{n}", body=body.decode())

    print(summary("store floor", timed([floor(at, body, n) for n, (at, body) in
                                        enumerate(stream)])))

    def one_hit(at: datetime, body: bytes) -> Callable[[], object]:
        def call() -> object:
            clock.freeze(at)
            return receive.receive_hit(engine, hit=Hit.model_validate_json(body), body=body,
                                       origin=ORIGIN, headers={})
        return call

    print(summary("hit", timed([one_hit(at, body) for at, body in stream])))

    def ask(v: int) -> Callable[[], object]:
        data = NumberAsk(site=site_key, visitor=f"bench-visitor-{v:08d}",
                         view=f"view-{v:08d}", url=f"{ORIGIN}/catalog", signals=SIGNALS)

        def call() -> object:
            at = START + timedelta(seconds=10 * v + 5)
            clock.freeze(at)
            with unit_of_work(engine) as session:
                return receive.ask_number(session, ask=data, origin=ORIGIN, now=at)
        return call

    print(summary("number", timed([ask(v) for v in range(visitors)])))
    clock.freeze(START + timedelta(days=1))

    def close() -> object:
        with unit_of_work(engine) as session:
            return service.close_idle_visits(session, now=clock.now(), limit=100_000)

    print(summary("close", timed([close])) + f"  ({visitors} visits → touchpoints)")
    clock.freeze(None)
    engine.dispose()
    print(f"  after: {uptime()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--hits", type=int, default=10)
    parser.add_argument("--postgres-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_store("SQLite", f"sqlite:///{tmp}/bench.sqlite3", args.visitors, args.hits)
    import psycopg

    admin = args.postgres_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"voronka_bench_tracker_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        run_store("PostgreSQL", args.postgres_url.rsplit("/", 1)[0] + f"/{name}",
                  args.visitors, args.hits)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
