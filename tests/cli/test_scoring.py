"""``voronka models retrain|status`` as a user runs them (real processes)."""

from __future__ import annotations

import json

from tests.cli.test_cli import assert_one_sentence_error, run  # noqa: F401


def test_retrain_and_status(run, tmp_path):  # noqa: F811
    assert run("db", "upgrade").returncode == 0
    assert_one_sentence_error(run("models", "retrain"),
                              "lead scoring needs at least 50 closed deals")
    assert run("demo", "--clients", "300", "--seed", "3").returncode == 0
    trained = run("models", "retrain")
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.split()[:3] == ["version", "training_deals", "scored_open_deals"]
    runs = json.loads(run("models", "status", "--format", "json").stdout)
    assert [r["version"] for r in runs] == [1]
    assert runs[0]["status"] == "ready"
    assert runs[0]["training_deals"] >= 50
    assert 0.0 < runs[0]["auc"] < 1.0
