"""Time frequent itemsets + rules: Voronka's miner vs pyfim (Borgelt's C code) vs mlxtend.

    python benchmarks/bench_basket.py [--baskets 1000000] [--items 1000] [--min-support 0.001]
                                      [--min-confidence 0.5] [--mlxtend-baskets 100000]

Synthetic baskets in the manner of the IBM Quest generator (Agrawal & Srikant 1994): item
popularity follows a Zipf law (exponent 1.1) over ``--items`` products, basket sizes are
1 + Poisson(3), and 300 planted patterns of 2–5 items each enter a basket with probability
0.15 (a pattern drawn by its own Zipf weight), so long frequent itemsets exist. Seed 7.

Each library gets its native input, built outside the timing: Voronka the two integer
arrays (basket, item); pyfim a list of integer lists; mlxtend its one-hot ``DataFrame``
(bool). Timed: frequent itemsets (``--min-support``, all lengths) and then rules with one item
on the right-hand side over ``--min-confidence``; best of ``--repeat`` runs. Counts of itemsets
are compared (they must be equal). mlxtend is slow and memory-hungry on 1M rows, so it runs on
the first ``--mlxtend-baskets`` baskets and its time is scaled linearly to the full size
(mlxtend's fpgrowth is linear in the number of baskets for a fixed support *share*; the
report says so). Peak memory: the resident-set high-water mark of a child process per
library (``ru_maxrss``), so one library's memory does not hide another's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def synthetic_baskets(baskets: int, items: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Return (basket, item) code arrays of Quest-like synthetic baskets (see the docstring)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, items + 1) ** 1.1
    popularity /= popularity.sum()
    sizes = 1 + rng.poisson(3, baskets)
    basket = np.repeat(np.arange(baskets), sizes)
    item = rng.choice(items, size=len(basket), p=popularity)
    patterns = [rng.choice(items, size=rng.integers(2, 6), replace=False) for _ in range(300)]
    weights = 1.0 / np.arange(1, 301) ** 1.1
    weights /= weights.sum()
    chosen = np.flatnonzero(rng.random(baskets) < 0.15)
    which = rng.choice(300, size=len(chosen), p=weights)
    extra_basket = [np.full(len(patterns[w]), b) for b, w in zip(chosen, which, strict=True)]
    extra_item = [patterns[w] for w in which]
    basket = np.concatenate([basket, *extra_basket])
    item = np.concatenate([item, *extra_item])
    key = np.unique(basket.astype(np.int64) * items + item)
    return key // items, key % items


def _run_voronka(basket: np.ndarray, item: np.ndarray, support: float,
                 confidence: float) -> tuple[int, int]:
    from voronka.analytics.basket.mining import association_rules, mine_itemsets

    n = len(np.unique(basket))
    found = mine_itemsets(basket, item, min_count=int(np.ceil(support * n - 1e-9)))
    rules = association_rules(found, min_confidence=confidence)
    return len(found), len(rules)


def _as_lists(basket: np.ndarray, item: np.ndarray) -> list[list[int]]:
    bounds = np.flatnonzero(np.diff(basket)) + 1
    return [part.tolist() for part in np.split(item, bounds)]


def _run_pyfim(lists: list[list[int]], support: float, confidence: float) -> tuple[int, int]:
    import fim

    count = int(np.ceil(support * len(lists) - 1e-9))
    sets = fim.fpgrowth(lists, target="s", supp=-count, zmin=1, report="a")
    # rule support = support of the whole rule (mode "o": original definition, as arules)
    rules = fim.fpgrowth(lists, target="r", supp=-count, conf=100 * confidence, zmin=2,
                         report="a", mode="o")
    return len(sets), len(rules)


def _one_hot(basket: np.ndarray, item: np.ndarray):  # type: ignore[no-untyped-def]
    import pandas as pd

    rows = np.unique(basket, return_inverse=True)[1]
    matrix = np.zeros((rows.max() + 1, item.max() + 1), dtype=bool)
    matrix[rows, item] = True
    return pd.DataFrame(matrix, columns=[str(c) for c in range(matrix.shape[1])])


def _run_mlxtend(frame, support: float, confidence: float) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    sets = fpgrowth(frame, min_support=support, use_colnames=False)
    rules = association_rules(sets, metric="confidence", min_threshold=confidence)
    single = rules[rules["consequents"].map(len) == 1]
    return len(sets), len(single)


def child(args: argparse.Namespace) -> None:
    """Time one library in this process and print its figures as JSON."""
    basket, item = synthetic_baskets(args.baskets, args.items)
    if args.library == "mlxtend":
        basket, item = basket[basket < args.mlxtend_baskets], item[basket < args.mlxtend_baskets]
        data = _one_hot(basket, item)
        run = lambda: _run_mlxtend(data, args.min_support, args.min_confidence)  # noqa: E731
    elif args.library == "pyfim":
        lists = _as_lists(basket, item)
        run = lambda: _run_pyfim(lists, args.min_support, args.min_confidence)  # noqa: E731
    else:
        run = lambda: _run_voronka(basket, item, args.min_support, args.min_confidence)  # noqa: E731
    best, counts = float("inf"), (0, 0)
    for _ in range(args.repeat):
        started = time.perf_counter()
        counts = run()
        best = min(best, time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"library": args.library, "seconds": best, "itemsets": counts[0],
                      "rules": counts[1], "peak_mb": peak_mb,
                      "baskets": int(len(np.unique(basket)))}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baskets", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--min-support", type=float, default=0.001)
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument("--mlxtend-baskets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--library", choices=("voronka", "pyfim", "mlxtend"))
    args = parser.parse_args()
    if args.library:
        child(args)
        return
    results = {}
    for library in ("voronka", "pyfim", "mlxtend"):
        command = [sys.executable, __file__, "--library", library, "--baskets",
                   str(args.baskets), "--items", str(args.items), "--min-support",
                   str(args.min_support), "--min-confidence", str(args.min_confidence),
                   "--mlxtend-baskets", str(args.mlxtend_baskets), "--repeat",
                   str(args.repeat)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[library] = json.loads(done.stdout.strip().splitlines()[-1])
    ml = results["mlxtend"]
    ml["seconds_scaled"] = ml["seconds"] * args.baskets / ml["baskets"]
    print(f"{args.baskets:,} baskets, {args.items} items, min support {args.min_support}, "
          f"min confidence {args.min_confidence}")
    print(f"{'library':10} {'seconds':>9} {'itemsets':>9} {'rules':>8} {'peak MB':>8}")
    for name, r in results.items():
        seconds = r.get("seconds_scaled", r["seconds"])
        note = f"  (measured {r['seconds']:.2f} s on {r['baskets']:,}, scaled)" \
            if name == "mlxtend" else ""
        print(f"{name:10} {seconds:9.2f} {r['itemsets']:9,} {r['rules']:8,} "
              f"{r['peak_mb']:8.0f}{note}")
    v, p = results["voronka"], results["pyfim"]
    print(f"voronka / pyfim: {v['seconds'] / p['seconds']:.2f}×; mlxtend (scaled) / voronka: "
          f"{ml['seconds_scaled'] / v['seconds']:.1f}×")
    if v["itemsets"] != p["itemsets"] or v["rules"] != p["rules"]:
        sys.exit(f"counts differ: voronka {v['itemsets']}/{v['rules']}, "
                 f"pyfim {p['itemsets']}/{p['rules']}")


if __name__ == "__main__":
    main()
