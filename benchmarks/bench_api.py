"""API latency on demo data: client card and a filtered client list, SQLite vs PostgreSQL.

    python benchmarks/bench_api.py --clients 100000 [--postgres-url URL] [--requests 400]

For each store it builds the demo company, starts `voronka serve` on a loopback port, signs
in as a head of sales (team scope, the most expensive filter) and fires concurrent requests.
Printed side by side with the floor measured in the same run: `/api/v1/health`, which goes
through the same server, middleware and event loop but touches no data.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
VORONKA = Path(sys.executable).with_name("voronka")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_demo(env: dict[str, str], clients: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(VORONKA), "demo", "--clients", str(clients)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def start_server(
    env: dict[str, str], port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    """Start ``voronka serve``; its output goes to ``log`` (printed if a request fails)."""
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(VORONKA), "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


async def measure(client: httpx.AsyncClient, paths: list[str], concurrency: int) -> list[float]:
    """Latencies (ms) of ``paths`` fetched with ``concurrency`` requests in flight."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            path = queue.get_nowait()
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code} {response.text[:200]}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def run_load(port: int, requests: int, concurrency: int) -> dict[str, list[float]]:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        login = await client.post(
            "/api/v1/auth/login",
            json={"email": "head1@demo.voronka.local", "password": "voronka-demo"},
        )
        if login.status_code != 200:
            raise SystemExit(f"login failed: {login.text[:200]}")
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        ids = [
            c["id"]
            for c in (await client.get("/api/v1/clients", params={"page_size": 200})).json()[
                "items"
            ]
        ]
        rng = random.Random(7)
        cards = [f"/api/v1/clients/{rng.choice(ids)}" for _ in range(requests)]
        timelines = [
            f"/api/v1/clients/{rng.choice(ids)}/timeline?limit=50" for _ in range(requests)
        ]
        lists = [
            f"/api/v1/clients?tag={rng.choice(['vip', 'loyal', 'newsletter'])}"
            f"&sort=-created_at&page={rng.randint(1, 20)}"
            for _ in range(requests)
        ]
        searches = [
            f"/api/v1/clients?q={rng.choice(['+7999', 'example.ru', 'ан'])}"
            for _ in range(requests // 4)
        ]
        return {
            "health (floor)": await measure(client, ["/api/v1/health"] * requests, concurrency),
            "client card": await measure(client, cards, concurrency),
            "client timeline": await measure(client, timelines, concurrency),
            "filtered list": await measure(client, lists, concurrency),
            "search q=": await measure(client, searches, concurrency),
        }


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def bench_store(name: str, url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    env = {**os.environ, "VORONKA_DATABASE_URL": url}
    seconds = build_demo(env, args.clients)
    print(f"[{name}] demo with {args.clients} clients built in {seconds:.1f} s", flush=True)
    port = free_port()
    log = Path(tempfile.mkdtemp()) / f"server-{name}.log"
    server = start_server(env, port, args.workers, log)
    try:
        return asyncio.run(run_load(port, args.requests, args.concurrency))
    except SystemExit:
        print(
            f"[{name}] server log {log}, last lines:\n"
            + "\n".join(log.read_text(errors="replace").splitlines()[-40:]),
            flush=True,
        )
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    stores = {"sqlite": f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"}
    if args.postgres_url:
        stores["postgresql"] = args.postgres_url
    results, failed = {}, {}
    for name, url in stores.items():  # a store that fails does not hide the other's figures
        try:
            results[name] = bench_store(name, url, args)
        except SystemExit as exc:
            failed[name] = str(exc.code)
    for name, reason in failed.items():
        print(f"\n[{name}] FAILED: {reason}")
    if not results:
        raise SystemExit(1)
    print(
        f"\n{args.clients} clients, {args.requests} requests per row, "
        f"{args.concurrency} in flight, {args.workers} server workers; latency in ms"
    )
    header = "".join(f"{s + ' p50':>16}{s + ' p95':>16}" for s in results)
    print(f"{'endpoint':<18}{header}")
    for endpoint in next(iter(results.values())):
        cells = "".join(
            f"{percentile(r[endpoint], 50):>16.1f}{percentile(r[endpoint], 95):>16.1f}"
            for r in results.values()
        )
        print(f"{endpoint:<18}{cells}")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
