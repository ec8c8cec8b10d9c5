"""``voronka analyze attribution``: the analyst-mode contract (options, JSON keys, errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voronka.cli.analyze import app

PATHS = Path(__file__).resolve().parents[4] / "shared" / "data" / "attribution_paths.csv"
#: A > B converts (value 10), A stops, B converts (value 30), B > A stops.
FOUR = "journey;conv;revenue;lost\nA > B;1;10;0\nA;0;0;1\nB;1;30;0\nB > A;0;0;1\n"


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["attribution", *args])


def test_hand_checked_file_as_json(tmp_path):
    """Markov (order 1): RE_A = 1/3, RE_B = 1 (derived in tests/analytics/attribution/
    test_markov.py), so 2 conversions split 0.5 : 1.5 and value 40 split 10 : 30.
    First touch: A > B → A (10), B → B (30). Last non-direct with B direct: A > B → A,
    B alone → B (all direct: its last touch)."""
    path = tmp_path / "journeys.csv"
    path.write_text(FOUR)
    result = _run(str(path), "--path", "journey", "--conversions", "conv", "--value", "revenue",
                  "--nulls", "lost", "--delimiter", ";", "--direct", "B",
                  "--models", "first_touch,last_non_direct,markov", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"journeys", "channels", "conversions", "value", "nulls", "order",
                         "attribution", "rows"}
    assert (data["journeys"], data["conversions"], data["value"], data["nulls"]) == (
        4, 2.0, 40.0, 2.0)
    markov = data["attribution"]["markov"]
    assert markov["A"] == pytest.approx({"conversions": 0.5, "value": 10.0,
                                         "conversion_share_pct": 25.0,
                                         "removal_effect": 1 / 3, "value_removal_effect": 1 / 3})
    assert markov["B"]["removal_effect"] == pytest.approx(1.0)
    assert data["attribution"]["first_touch"] == {
        "A": {"conversions": 1.0, "value": 10.0, "conversion_share_pct": 50.0},
        "B": {"conversions": 1.0, "value": 30.0, "conversion_share_pct": 50.0}}
    assert data["attribution"]["last_non_direct"]["A"]["conversions"] == 1.0


def test_reference_data_as_csv():
    """ChannelAttribution's example, order 2: alpha first by removal effect (0.547803;
    ChannelAttribution simulates 0.5467, see test_channelattribution.py)."""
    result = _run(str(PATHS), "--path", "path", "--conversions", "total_conversions",
                  "--nulls", "total_null", "--delimiter", ";", "--order", "2",
                  "--models", "markov", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == ("model,channel,conversions,value,conversion_share_pct,removal_effect,"
                        "value_removal_effect")
    assert lines[1].startswith("markov,alpha,5617.453854,0.0,28.392489,0.547803,")
    assert len(lines) == 13


def test_mistakes_are_one_sentence(tmp_path):
    path = tmp_path / "journeys.csv"
    path.write_text("journey,conv\nA > B,1\nB,many\n")
    bad = _run(str(path), "--path", "journey", "--conversions", "conv")
    assert bad.exit_code == 1
    assert bad.output.strip() == (
        "error: column 'conv', row 2: 'many' is not a non-negative number")
    order = _run(str(path), "--path", "journey", "--conversions", "journey", "--order", "4")
    assert order.exit_code == 1
    path.write_text("journey,conv\nA >> B,1\n")
    empty = _run(str(path), "--path", "journey", "--conversions", "conv")
    assert empty.output.strip() == "error: a path has an empty channel name between two '>'"


def test_a_file_without_journeys_gives_empty_figures(tmp_path):
    path = tmp_path / "journeys.csv"
    path.write_text("journey,conv\n")
    result = _run(str(path), "--path", "journey", "--conversions", "conv", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["journeys"], data["conversions"], data["attribution"], data["rows"]) == (
        0, 0.0, {}, [])
