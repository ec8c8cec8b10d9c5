"""Overview dashboard render time on a large demo store (the web interface's slowest page).

    python benchmarks/bench_ui.py --clients 100000 [--store PATH] [--repeat 5]

Builds the demo company in a SQLite file (or reuses ``--store``), signs in through the
sign-in form, and times ``GET /ui/`` for the last three months:

* **first load** — every report computed (the analytics cache emptied before each request);
* **next loads** — the same page again within ``analytics_refresh_seconds`` (cache hit);
* **baseline** — in the same run, the API's metrics report alone (``/api/v1/analytics/metrics``
  with the overview's metrics), the biggest single piece of the first load.

Medians of ``--repeat`` requests; the load of the machine (``os.getloadavg``) is printed with
the figures because the two cores are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VORONKA_ANALYTICS_REFRESH_SECONDS", "600")


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--store", type=Path, help="Reuse this SQLite demo store.")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="voronka-bench-ui-"))
    store = args.store or folder / "demo.sqlite3"
    os.environ["VORONKA_DATABASE_URL"] = f"sqlite:///{store}"
    os.environ.setdefault("VORONKA_ANALYTICS_DIR", str(folder / "analytics"))

    from fastapi.testclient import TestClient
    from sqlalchemy import update

    from voronka.db import migrate
    from voronka.db.session import get_engine, unit_of_work
    from voronka.demo import generate
    from voronka.user.models import User
    from voronka.user.password import hash_password
    from voronka.web.app import create_app
    from voronka.web.ui import analysis
    from voronka.web.ui.pages.dashboard import SCOPED_METRICS, SPEND_METRICS

    engine = get_engine()
    migrate.upgrade(engine)
    if args.store is None:
        started = time.perf_counter()
        generate(engine, clients=args.clients, seed=42)
        print(f"demo of {args.clients:,} clients built in {time.perf_counter() - started:.1f} s")
    with unit_of_work(engine) as session:
        session.execute(update(User).values(password_hash=hash_password("bench password")))

    client = TestClient(create_app(engine))
    form = client.get("/ui/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    signed = client.post("/ui/login", data={"email": "admin@demo.voronka.local",
                                            "password": "bench password", "csrf_token": token},
                         follow_redirects=False)
    assert signed.status_code == 303, signed.text
    period = {"start": "2026-08-01", "end": "2026-10-31"}
    page = f"/ui/?start={period['start']}&end={period['end']}"
    query = json.dumps({"period": period, "metrics": list(SCOPED_METRICS + SPEND_METRICS),
                        "compare": True})

    load_before = os.getloadavg()
    client.get(page)  # warm-up: imports, DuckDB extensions, the first snapshot
    first, warm, api = [], [], []
    for _ in range(args.repeat):
        analysis.forget()
        started = time.perf_counter()
        assert client.get(page).status_code == 200
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get(page).status_code == 200
        warm.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get("/api/v1/analytics/metrics", params={"q": query}).status_code == 200
        api.append(time.perf_counter() - started)
    load_after = os.getloadavg()

    print(f"store: SQLite, {args.clients:,} clients; engine: DuckDB; median of {args.repeat}")
    print(f"{'what':<46}{'ms':>10}")
    print(f"{'overview, first load (all reports computed)':<46}{_median_ms(first):>10.0f}")
    print(f"{'overview, next loads (cached reports)':<46}{_median_ms(warm):>10.0f}")
    print(f"{'baseline: API metrics report alone':<46}{_median_ms(api):>10.0f}")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (2 cores)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
