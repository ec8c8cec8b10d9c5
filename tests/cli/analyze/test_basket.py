"""``voronka analyze basket``: the analyst-mode contract (options, JSON keys, errors)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from voronka.cli.analyze import app

GROCERIES = Path(__file__).resolve().parents[4] / "shared" / "data" / "groceries_transactions.csv"


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["basket", *args])


def test_groceries_as_json():
    """410 rules at supp 0.001, conf 0.8 (arules' Groceries example); the top rule by lift is
    {liquor, red/blush wine} ⇒ {bottled beer}, lift 11.235."""
    result = _run(str(GROCERIES), "--transaction", "transaction_id", "--item", "item",
                  "--min-support", "0.001", "--min-confidence", "0.8", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["baskets"], data["min_count"]) == (9835, 10)
    assert (len(data["itemsets"]), len(data["rules"])) == (13_492, 410)
    top = data["rules"][0]
    assert set(top) == {"antecedent", "consequent", "count", "support", "confidence", "lift",
                        "leverage", "conviction"}
    assert (top["antecedent"], top["consequent"]) == (["liquor", "red/blush wine"],
                                                      ["bottled beer"])
    assert round(top["lift"], 3) == 11.235


def test_tiny_file_as_csv_with_max_length(tmp_path):
    """Baskets {a,b,c} ×2 and {a}: with max length 2 no 3-itemset and no rule with two items
    on the left; b ⇒ a has confidence 2/2 = 1 and lift 1 ÷ (3/3) = 1."""
    path = tmp_path / "lines.csv"
    path.write_text("order;sku\n1;a\n1;b\n1;c\n2;a\n2;b\n2;c\n3;a\n")
    result = _run(str(path), "--transaction", "order", "--item", "sku", "--separator", ";",
                  "--min-support", "0.5", "--min-confidence", "0.9", "--max-length", "2",
                  "--sort", "confidence", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "antecedent,consequent,count,support,confidence,lift,leverage,conviction"
    assert sorted(lines[1:]) == ["b,a,2,0.666667,1.0,1.0,0.0,", "b,c,2,0.666667,1.0,1.5,"
                                 "0.222222,", "c,a,2,0.666667,1.0,1.0,0.0,",
                                 "c,b,2,0.666667,1.0,1.5,0.222222,"]


def test_mistakes_are_one_sentence(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text("order,sku\n1,a\n")
    missing = _run(str(path), "--transaction", "basket", "--item", "sku")
    assert missing.exit_code == 1
    assert missing.output.strip() == (
        "error: lines.csv: no column 'basket'; the file has order, sku")
    bad = _run(str(path), "--transaction", "order", "--item", "sku", "--min-support", "2")
    assert bad.exit_code == 1
    assert bad.output.strip() == "error: min_support must be a share in (0, 1]"
