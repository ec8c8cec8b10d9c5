"""``voronka analyze abtest``: the analyst-mode contract (options, JSON keys, errors)."""

from __future__ import annotations

import json

import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest
from typer.testing import CliRunner

from voronka.cli.analyze import app


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["abtest", *args])


def _write(tmp_path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "units.csv"
    path.write_text(text)
    return str(path)


ROWS = [  # variant, converted, revenue, day
    ("B", "1", "2000", "2026-03-02"), ("A", "1", "1000", "2026-03-02"),
    ("A", "0", "", "2026-03-02"), ("B", "1", "3000", "2026-03-02"),
    ("A", "no", "0", "2026-03-03"), ("A", "0", "0", "2026-03-03"),
    ("B", "yes", "1000", "2026-03-03"), ("B", "0", "0", "2026-03-03"),
]


def test_json_with_control_value_and_days(tmp_path):
    body = "group,bought,revenue,day\n" + "\n".join(",".join(r) for r in ROWS) + "\n"
    result = _run(_write(tmp_path, body), "--variant", "group", "--converted", "bought",
                  "--value", "revenue", "--day", "day", "--control", "A", "--mde", "2",
                  "--burn-in", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"variants", "comparisons", "probability_best", "chi_square", "plan",
                         "verdict", "settings"}
    assert [(v["variant"], v["units"], v["conversions"]) for v in data["variants"]] == [
        ("A", 4, 1), ("B", 4, 3)]
    conversion, value, check = data["comparisons"]
    assert (conversion["figure"], value["figure"], check["figure"]) == (
        "conversion", "value_per_unit", "average_check")
    z, p = proportions_ztest([3, 1], [4, 4])  # statsmodels 0.14: z = √2, p = 0.1573
    assert (conversion["statistic"], conversion["p_value"]) == (pytest.approx(z),
                                                                 pytest.approx(p))
    # the same two daily looks as tests/analytics/experiment/test_report.py
    assert conversion["always_valid_p"] == pytest.approx(1 / 1.377204, rel=1e-6)
    reference = stats.ttest_ind([2000, 3000, 1000, 0], [1000, 0, 0, 0], equal_var=False)
    assert value["p_value"] == pytest.approx(reference.pvalue)  # scipy 1.17, raw values
    assert data["verdict"]["decision"] == "keep_running"


def test_table_lists_the_comparisons(tmp_path):
    body = "v,c\n" + "\n".join(["a,1", "a,0", "b,1", "b,1", "c,0", "c,1"]) + "\n"
    result = _run(_write(tmp_path, body), "--variant", "v", "--converted", "c")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["figure", "variant", "control"]
    assert [line.split()[1] for line in lines[1:]] == ["b", "c"]


@pytest.mark.parametrize(("body", "options", "message"), [
    ("v,c\na,1\nb,maybe\n", (), "error: column 'c', row 3: expected 1/0, true/false or "
     "yes/no, got 'maybe'"),
    ("v,c,r\na,1,10\nb,1,ten\n", ("--value", "r"), "error: column 'r', row 3: expected a "
     "number, got 'ten'"),
    ("v,c\na,1\nb,0\n", ("--control", "z"), "error: no variant 'z' in column 'v'; "
     "variants: a, b"),
    ("v,c\na,1\na,0\n", (), "error: an experiment needs at least two variants (control "
     "first)"),
    ("v,c\na,1\n", ("--variant", "w"), "error: units.csv: no column 'w'; the file has v, c"),
])
def test_mistakes_are_one_sentence(tmp_path, body, options, message):
    args = ["--variant", "v", "--converted", "c", *options]
    if "--variant" in options:
        args = args[2:]
    result = _run(_write(tmp_path, body), *args)
    assert result.exit_code == 1
    assert result.output.strip() == message
