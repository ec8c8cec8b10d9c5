"""Time the BG/NBD fit: Voronka's ``BetaGeoModel`` vs lifetimes' ``BetaGeoFitter``.

    python benchmarks/bench_ltv.py [--customers 1000000] [--repeat 3]

Synthetic customers drawn from BG/NBD with the demo's daily parameters (r 0.75, α 90,
a 0.8, b 2.8; seed 5): age T uniform on 1…730 days, purchases a Poisson process cut by the
geometric dropout, the last purchase time an order statistic of the arrivals; times are whole
days, as the CRM's daily summaries are. Each library fits the same ``(x, t_x, T)`` arrays in
a child process of its own, so its peak resident memory (``ru_maxrss``) is its alone.

Peers: lifetimes on the customer rows (its documented use), and lifetimes given the unique
rows with their counts (``weights=``, the same compression Voronka applies internally).
Timed: the fit only, best of ``--repeat``; the fitted parameters and log-likelihoods are
printed side by side so the answers can be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TRUTH = {"r": 0.75, "alpha": 90.0, "a": 0.8, "b": 2.8}


def synthetic(customers: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, t_x, T)`` in whole days, drawn from BG/NBD (see the module docstring)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(1, 731, customers).astype(np.float64)
    rate = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], customers)
    dropout = rng.beta(TRUTH["a"], TRUTH["b"], customers)
    arrivals = rng.poisson(rate * age)
    x = np.minimum(arrivals, rng.geometric(dropout)).astype(np.float64)
    repeat = x > 0
    t_x = np.zeros(customers)
    # the x-th of n uniform arrival times on [0, T] is T · Beta(x, n − x + 1)
    t_x[repeat] = age[repeat] * rng.beta(x[repeat], arrivals[repeat] - x[repeat] + 1)
    return x, np.floor(t_x), age


def _fit(library: str, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> dict[str, float]:
    if library == "voronka":
        from voronka.analytics.ltv import BetaGeoModel

        model = BetaGeoModel().fit(x, t_x, age)
        return {**model.params_, "log_likelihood": model.log_likelihood_}
    from lifetimes import BetaGeoFitter

    if library == "lifetimes-weighted":
        rows, counts = np.unique(np.column_stack([x, t_x, age]), axis=0, return_counts=True)
        fitter = BetaGeoFitter().fit(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts)
    else:
        fitter = BetaGeoFitter().fit(x, t_x, age)
    # lifetimes reports the mean negative log-likelihood per row (weighted rows: per pattern)
    return {**{k: float(v) for k, v in fitter.params_.items()}}


def child(library: str, data: Path, repeat: int) -> None:
    warnings.simplefilter("ignore")
    if library == "voronka":  # imports stay outside the timing
        import voronka.analytics.ltv  # noqa: F401
    else:
        import lifetimes  # noqa: F401
    arrays = np.load(data)
    x, t_x, age = arrays["x"], arrays["t_x"], arrays["T"]
    best, fitted = float("inf"), {}
    for _ in range(repeat):
        started = time.perf_counter()
        fitted = _fit(library, x, t_x, age)
        best = min(best, time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"library": library, "seconds": best, "peak_rss_mb": peak_mb, **fitted}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--libraries", default="voronka,lifetimes,lifetimes-weighted")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.repeat)
        return
    x, t_x, age = synthetic(args.customers)
    unique = len(np.unique(np.column_stack([x, t_x, age]), axis=0))
    print(f"customers {args.customers:,}, unique (x, t_x, T) rows {unique:,}, "
          f"repeat buyers {int((x > 0).sum()):,}; load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "summary.npz"
        np.savez(data, x=x, t_x=t_x, T=age)
        results = []
        for library in args.libraries.split(","):
            out = subprocess.run([sys.executable, __file__, "--child", library, "--data",
                                  str(data), "--repeat", str(args.repeat)],
                                 capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]))
    base = results[0]["seconds"]
    print("\n| library | fit (s) | × Voronka | peak RSS (MB) | r | alpha | a | b |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['library']} | {r['seconds']:.2f} | {r['seconds'] / base:.1f} | "
              f"{r['peak_rss_mb']:.0f} | {r['r']:.4f} | {r['alpha']:.3f} | {r['a']:.4f} | "
              f"{r['b']:.4f} |")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
