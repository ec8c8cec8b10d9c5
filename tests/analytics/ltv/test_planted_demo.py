"""The ``ltv`` report recovers the BG/NBD and Gamma-Gamma parameters planted in the demo.

A 6,000-client demo (seed 11, ~1,200 paying clients) is generated into a SQLite store and read
by DuckDB; the models are fitted on the whole two-year window. Each fitted parameter must lie
within three of its standard errors (inverse observed information) of the value in
``demo/params.py`` (r 0.75, α 90 days, a 0.8, b 2.8; p 6, q 4, v 7,500 roubles).

Run once, on DuckDB: the engines' equality is what ``test_report.py`` checks on every engine;
this is a statistical check of the models on the engine's summaries.
"""

from __future__ import annotations

import pytest

from voronka.analytics import snapshot, sources
from voronka.analytics.ltv.report import LtvQuery, run
from voronka.analytics.runner import Runner
from voronka.db import migrate
from voronka.db.session import make_engine
from voronka.demo import DemoParams, generate
from voronka.demo.timeline import DEFAULT_END

PARAMS = DemoParams()


@pytest.fixture(scope="module")
def demo_runner(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("ltv-demo")
    engine = make_engine(f"sqlite:///{folder / 'demo.sqlite3'}")
    migrate.upgrade(engine)
    generate(engine, clients=6_000, seed=11)
    snapshot.refresh(engine.url.render_as_string(hide_password=False), folder / "snapshot")
    engine.dispose()
    runner = Runner(sources.duckdb_sources(folder / "snapshot", "Europe/Moscow"))
    yield runner
    runner.sources.backend.disconnect()


def test_planted_purchase_and_spend_parameters_are_recovered(demo_runner):
    rows = run(demo_runner, LtvQuery(as_of=DEFAULT_END, section="parameters")).rows
    found = {(r["model"], r["parameter"]): r for r in rows}
    planted = PARAMS.repeat_purchase
    spend = PARAMS.spend
    truths = {("bgnbd", "r"): planted.r, ("bgnbd", "alpha"): planted.alpha,
              ("bgnbd", "a"): planted.a, ("bgnbd", "b"): planted.b,
              ("gamma_gamma", "p"): spend.p, ("gamma_gamma", "q"): spend.q,
              ("gamma_gamma", "v"): spend.v}
    assert found[("data", "clients")]["value"] > 1000
    for key, truth in truths.items():
        row = found[key]
        assert abs(row["value"] - truth) < 3 * row["standard_error"], (key, row, truth)
    # the mean repeat order value p·v/(q − 1) is identified much better than p, q, v alone:
    # a client's mean value p/ν varies with CV 1/√(q − 2) ≈ 0.71, so over ~760 repeat clients
    # its standard error is ≈ 2.6 %; 10 % is about four of them
    assert found[("gamma_gamma", "mean_order_value")]["value"] == pytest.approx(
        PARAMS.mean_repeat_order_value(), rel=0.1)
