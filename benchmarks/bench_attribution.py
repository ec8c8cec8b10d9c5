"""Attribution on 1,000,000 synthetic journeys: Voronka's exact Markov chain vs ChannelAttribution.

    python benchmarks/bench_attribution.py [--journeys 1000000] [--orders 1,2,3] [--seed 7]
    python benchmarks/bench_attribution.py --reference   # the numbers the tests compare with

Journeys are drawn from a known order-1 chain over 12 channels (start → channels → conversion
or null), one row per journey with ``path`` (channels joined by " > "), ``conversions``,
``value`` and ``nulls`` — the layout both libraries read. Each measurement runs in a fresh
process that first loads the same Parquet file (not timed) and reports the seconds of the
attribution itself and the peak resident memory of the whole process while it ran (data
included; the peak is reset after loading through Linux ``/proc/self/clear_refs``, so the
Parquet reader's own peak does not hide it), so the two are measured alike:

* ``voronka``: ``Paths.from_frame`` (group identical paths, parse) + ``MarkovAttribution(k)``
  (exact removal effects by sparse LU);
* ``channelattribution``: ``markov_model(..., order=k)`` with its defaults (simulation,
  ``nsim_start=1e5``, one thread);
* ``voronka-rules`` / ``channelattribution-rules``: the rule-based models (first, last,
  linear), both exact.

The largest difference between the two libraries' removal effects is printed as a check.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "attribution_paths.csv"
CHANNELS = ("search", "social", "display", "email", "seo", "direct", "referral", "video",
            "affiliate", "sms", "push", "offline")


def journeys(count: int, seed: int) -> pd.DataFrame:
    """``count`` journeys of a random order-1 chain (vectorised, step by step)."""
    rng = np.random.default_rng(seed)
    k = len(CHANNELS)
    start = rng.dirichlet(np.full(k, 1.0))
    moves = rng.dirichlet(np.full(k, 0.6), size=k)
    convert = rng.uniform(0.02, 0.12, k)
    stop = rng.uniform(0.15, 0.35, k)
    state = rng.choice(k, count, p=start)
    steps = [state]
    alive = np.ones(count, dtype=bool)
    converted = np.zeros(count, dtype=bool)
    length = np.ones(count, dtype=np.int64)
    for _ in range(19):
        draw = rng.random(count)
        ends_conv = alive & (draw < convert[state])
        ends_null = alive & ~ends_conv & (draw < convert[state] + stop[state])
        converted |= ends_conv
        alive &= ~(ends_conv | ends_null)
        if not alive.any():
            break
        cumulative = moves[state].cumsum(axis=1)
        state = np.where(alive, (rng.random(count)[:, None] > cumulative).sum(axis=1), state)
        state = np.minimum(state, k - 1)
        steps.append(state)
        length += alive
    matrix = np.column_stack(steps)
    names = np.asarray(CHANNELS, dtype=object)
    paths = names[matrix[:, 0]].copy()
    for step in range(1, matrix.shape[1]):
        longer = length > step
        paths[longer] = paths[longer] + " > " + names[matrix[longer, step]]
    value = np.where(converted, np.round(rng.gamma(2.0, 50.0, count), 2), 0.0)
    return pd.DataFrame({"path": paths, "conversions": converted.astype(np.int64),
                         "value": value, "nulls": (~converted).astype(np.int64)})


def child(kind: str, data: Path, order: int) -> None:
    """Load ``data``, run one measurement, print one JSON line (imports are not timed)."""
    import ChannelAttribution as ca

    from voronka.analytics.attribution import (
        FirstTouch,
        LastTouch,
        Linear,
        MarkovAttribution,
        Paths,
    )

    frame = pd.read_parquet(data)
    gc.collect()
    loaded = _reset_peak()
    started = time.perf_counter()
    effects: dict[str, float] = {}
    if kind == "voronka":
        paths = Paths.from_frame(frame, path="path", conversions="conversions", value="value",
                                 nulls="nulls", separator=">")
        fitted = MarkovAttribution(order=order).fit(paths)
        effects = fitted.removal_effects_.to_dict()
    elif kind == "voronka-rules":
        paths = Paths.from_frame(frame, path="path", conversions="conversions", value="value",
                                 separator=">")
        for model in (FirstTouch(), LastTouch(), Linear()):
            model.fit(paths)
    elif kind == "channelattribution":
        found = ca.markov_model(frame, "path", "conversions", var_value="value",
                                var_null="nulls", order=order, out_more=True, verbose=False,
                                flg_pro=False)
        table = found["removal_effects"]
        effects = dict(zip(table.channel_name, table.removal_effects_conversion, strict=True))
    elif kind == "channelattribution-rules":
        ca.heuristic_models(frame, "path", "conversions", var_value="value", flg_pro=False)
    seconds = time.perf_counter() - started
    peak = _status_mb("VmHWM")
    print(json.dumps({"kind": kind, "order": order, "seconds": seconds, "peak_mb": peak,
                      "loaded_mb": loaded, "effects": effects}))


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> float:
    """Reset the peak RSS to the current RSS (Linux ``clear_refs`` 5) and return it, so the
    peak measured afterwards is the attribution's, not the Parquet reader's."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def measure(kind: str, data: Path, order: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--data", str(data),
                           "--order", str(order)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def reference() -> None:
    """ChannelAttribution's numbers on its example data (see tests/analytics/attribution)."""
    import ChannelAttribution as ca

    pd.set_option("display.precision", 8)
    frame = pd.read_csv(DATA, sep=";")
    print(ca.heuristic_models(frame, "path", "total_conversions",
                              var_value="total_conversion_value", flg_pro=False).to_string())
    for order in (1, 2, 3):
        found = ca.markov_model(frame, "path", "total_conversions",
                                var_value="total_conversion_value", var_null="total_null",
                                order=order, out_more=True, verbose=False, flg_pro=False, seed=0,
                                nsim_start=1e7)
        print(f"order {order}\n{found['removal_effects'].to_string()}")
        if order == 1:
            print(found["transition_matrix"].to_string())


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--orders", default="1,2,3")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--order", type=int, default=1)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.order)
        return
    if args.reference:
        reference()
        return
    print(f"before: {uptime()}", flush=True)
    started = time.perf_counter()
    frame = journeys(args.journeys, args.seed)
    print(f"{len(frame):,} journeys, {frame.path.nunique():,} distinct paths, "
          f"{int(frame.conversions.sum()):,} conversions; drawn in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as work:
        data = Path(work) / "journeys.parquet"
        frame.to_parquet(data)
        del frame
        print(f"{'measurement':<28}{'seconds':>9}{'peak RSS MB':>13}{'loaded MB':>11}  check")
        rows = [("rules", 0)] + [("markov", int(o)) for o in args.orders.split(",")]
        for what, order in rows:
            ours_kind, peer_kind = (("voronka-rules", "channelattribution-rules")
                                    if what == "rules" else ("voronka", "channelattribution"))
            ours, peer = measure(ours_kind, data, order), measure(peer_kind, data, order)
            gap = max((abs(ours["effects"][c] - peer["effects"].get(c, 0.0))
                       for c in ours["effects"]), default=0.0)
            for found in (ours, peer):
                label = f"{found['kind']}" + (f" order {order}" if order else "")
                check = f"max |ΔRE| {gap:.4f}" if found is peer and order else ""
                print(f"{label:<28}{found['seconds']:>9.2f}{found['peak_mb']:>13.0f}"
                      f"{found['loaded_mb']:>11.0f}  {check}", flush=True)
    print(f"after: {uptime()}", flush=True)


if __name__ == "__main__":
    main()
