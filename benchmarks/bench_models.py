"""Time the experiment report, lead scoring and the alerts report on the demo company.

    python benchmarks/bench_models.py [--clients 100000] [--work-dir /work/bench] [--reuse]
                                      [--repeat 3]

Builds the demo (SQLite) and its Parquet snapshot, then on DuckDB, best of ``--repeat``:

* experiment: Voronka's report (the two biggest campaigns over the last 12 months: the
  engine query, the looks and every statistic) beside hand-written DuckDB SQL computing the
  same per-campaign daily sums over the same Parquet files (sums checked to 1e-9 relative);
* lead scoring: the feature expression beside a floor (one scan of the deal columns it
  reads), then training (backtest + final fit + explaining every open deal) beside a floor
  (one logistic-regression fit on the already encoded matrix);
* alerts: the report for one day (6 metrics, 6 weeks, 3 breakdowns) beside hand-written SQL
  counting the day's and the compared days' leads per channel.

``uptime`` is printed before and after: other processes may share the cores.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def build(clients: int, work_dir: Path, reuse: bool) -> tuple[str, Path]:
    from voronka.analytics import snapshot
    from voronka.db import migrate
    from voronka.db.session import make_engine
    from voronka.demo import generate

    store = work_dir / f"bench_models_{clients}.sqlite3"
    url = f"sqlite:///{store}"
    snap = work_dir / f"bench_models_{clients}_snapshot"
    if not (reuse and store.exists() and snap.exists()):
        store.unlink(missing_ok=True)
        engine = make_engine(url)
        migrate.upgrade(engine)
        started = time.perf_counter()
        generate(engine, clients=clients, seed=7)
        print(f"demo {clients} clients: {time.perf_counter() - started:.1f} s")
        engine.dispose()
        started = time.perf_counter()
        snapshot.refresh(url, snap)
        print(f"snapshot: {time.perf_counter() - started:.1f} s")
    return url, snap


HAND_EXPERIMENT = """
WITH revenue AS (
  SELECT deal_id, SUM(total_minor) / 100.0 AS revenue
  FROM read_parquet('{s}/sales_order/*.parquet')
  WHERE NOT is_deleted AND paid_at IS NOT NULL AND status IN ('paid', 'shipped', 'delivered')
    AND deal_id IS NOT NULL
  GROUP BY deal_id),
leads AS (
  SELECT d.campaign_id, CAST(d.created_at + INTERVAL 3 HOUR AS DATE) AS day,
         d.status = 'won' AS won, COALESCE(r.revenue, 0.0) AS value
  FROM read_parquet('{s}/deal/*.parquet') d LEFT JOIN revenue r ON r.deal_id = d.id
  WHERE NOT d.is_deleted AND d.campaign_id IN ({a}, {b})
    AND d.created_at >= TIMESTAMP '{start}' - INTERVAL 3 HOUR
    AND d.created_at < TIMESTAMP '{end}' - INTERVAL 3 HOUR)
SELECT campaign_id, day, COUNT(*) AS units, SUM(won::INT) AS conversions,
       SUM(value) AS value_sum, SUM(value * value) AS value_sq_sum,
       SUM(CASE WHEN won THEN value ELSE 0 END) AS check_sum
FROM leads GROUP BY 1, 2
"""

HAND_ALERTS = """
SELECT channel_id, CAST(created_at + INTERVAL 3 HOUR AS DATE) AS day, COUNT(*) AS leads
FROM read_parquet('{s}/deal/*.parquet')
WHERE NOT is_deleted AND CAST(created_at + INTERVAL 3 HOUR AS DATE) IN ({days})
GROUP BY 1, 2
"""


def bench_experiment(snap: Path, repeat: int) -> None:
    from voronka.analytics.experiment.report import ExperimentQuery, run
    from voronka.analytics.query import Period
    from voronka.analytics.runner import Runner
    from voronka.analytics.sources import duckdb_sources

    con = duckdb.connect()
    last = con.sql(f"SELECT CAST(MAX(created_at) AS DATE) FROM "  # noqa: S608 (own files)
                   f"read_parquet('{snap}/deal/*.parquet')").fetchone()[0]
    start = last - timedelta(days=365)
    top = con.sql(f"SELECT campaign_id FROM read_parquet('{snap}/deal/*.parquet') "  # noqa: S608
                  f"WHERE campaign_id IS NOT NULL GROUP BY 1 ORDER BY COUNT(*) DESC "
                  f"LIMIT 2").fetchall()
    a, b = top[0][0], top[1][0]
    query = ExperimentQuery(period=Period(start=start, end=last), campaign_ids=(a, b))
    sources = duckdb_sources(snap, "Europe/Moscow")

    def voronka() -> Any:
        return run(Runner(sources), query)

    sql = HAND_EXPERIMENT.format(s=snap, a=a, b=b, start=start, end=last + timedelta(days=1))
    seconds, result = best(repeat, voronka)
    hand_seconds, hand = best(repeat, lambda: con.sql(sql).fetchall())
    units = sum(r["units"] for r in result.rows
                if r["row_type"] == "variant" and r["figure"] == "conversion")
    assert units == sum(row[2] for row in hand), (units, sum(row[2] for row in hand))
    value = sum(r["value"] * r["units"] for r in result.rows
                if r["row_type"] == "variant" and r["figure"] == "value_per_unit")
    assert math.isclose(value, sum(row[4] for row in hand), rel_tol=1e-9)
    print(f"experiment ({units} leads, campaigns {a} and {b}): voronka {seconds:.3f} s "
          f"(engine {result.seconds:.3f} s) · hand SQL {hand_seconds:.3f} s · "
          f"ratio {seconds / hand_seconds:.2f}×")


def bench_scoring(snap: Path, repeat: int) -> None:
    from voronka.analytics.runner import Runner
    from voronka.analytics.scoring.features import FEATURES, deal_features
    from voronka.analytics.scoring.model import LeadScorer
    from voronka.analytics.scoring.service import train
    from voronka.analytics.sources import duckdb_sources

    sources = duckdb_sources(snap, "Europe/Moscow")
    con = duckdb.connect()
    seconds, rows = best(repeat, lambda: Runner(sources).rows(deal_features(sources)))
    floor_sql = (f"SELECT COUNT(*), SUM(amount_minor), COUNT(DISTINCT channel_id), "  # noqa: S608
                 f"COUNT(DISTINCT owner_id) FROM read_parquet('{snap}/deal/*.parquet')")
    floor_seconds, _ = best(repeat, lambda: con.sql(floor_sql).fetchall())
    print(f"scoring features ({len(rows)} deals): voronka {seconds:.3f} s · deal scan floor "
          f"{floor_seconds:.3f} s")
    train_seconds, training = best(1, lambda: train(Runner(sources)))
    frame = pd.DataFrame(rows)
    closed = frame[frame["status"].isin(("won", "lost"))]
    scorer = LeadScorer()
    encoded = scorer._encoder().fit_transform(closed[list(FEATURES)])
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        fit_seconds, _ = best(repeat, lambda: LogisticRegression(
            solver="newton-cholesky").fit(encoded, closed["won"].to_numpy()))
    backtest = training.metrics["backtest"]
    print(f"scoring training ({len(closed)} closed, {len(training.scores)} open scored; "
          f"backtest AUC {backtest['auc']:.3f}, Brier {backtest['brier']:.4f} vs "
          f"{backtest['baseline_brier']:.4f}): {train_seconds:.2f} s (features included) · "
          f"one regression fit floor {fit_seconds:.3f} s")


def bench_alerts(snap: Path, repeat: int) -> None:
    from voronka.analytics.alert.report import AlertsQuery, run
    from voronka.analytics.runner import Runner
    from voronka.analytics.sources import duckdb_sources

    sources = duckdb_sources(snap, "Europe/Moscow")
    con = duckdb.connect()
    last = con.sql(f"SELECT CAST(MAX(created_at) AS DATE) FROM "  # noqa: S608 (own files)
                   f"read_parquet('{snap}/deal/*.parquet')").fetchone()[0]
    day = last - timedelta(days=30)
    query = AlertsQuery(day=day)
    seconds, result = best(repeat, lambda: run(Runner(sources), query))
    days = ", ".join(f"DATE '{d}'" for d in query.days())
    hand_seconds, hand = best(repeat, lambda: con.sql(
        HAND_ALERTS.format(s=snap, days=days)).fetchall())
    leads = next(r for r in result.rows if r["metric"] == "leads")
    mine = sum(row[2] for row in hand if row[1] == day)
    assert leads["value"] == mine, (leads["value"], mine)
    alerts = sum(r["alert"] for r in result.rows)
    print(f"alerts ({day}, {len(result.rows)} metrics, {alerts} alerting): voronka "
          f"{seconds:.3f} s (engine {result.seconds:.3f} s) · hand SQL (leads by channel "
          f"only) {hand_seconds:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    print("uptime before:", subprocess.run(["uptime"], capture_output=True,
                                           text=True).stdout.strip())
    _, snap = build(args.clients, args.work_dir, args.reuse)
    bench_experiment(snap, args.repeat)
    bench_scoring(snap, args.repeat)
    bench_alerts(snap, args.repeat)
    print("uptime after:", subprocess.run(["uptime"], capture_output=True,
                                          text=True).stdout.strip())
    np.seterr(all="ignore")


if __name__ == "__main__":
    main()
