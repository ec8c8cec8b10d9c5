"""``voronka import`` and ``voronka export`` as an operator runs them: real processes against
the test database, one-sentence errors, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import email_of
from tests.transfer import snapshots
from tests.transfer.files import read_xlsx, write_csv

VORONKA = Path(sys.executable).with_name("voronka")


@pytest.fixture
def voronka(engine, people, tmp_path):
    """Run the ``voronka`` command on this test's database (seeded with the cast)."""
    env = {
        **os.environ,
        "VORONKA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "VORONKA_PASSWORD_HASH_COST": "light",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VORONKA), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def assert_one_sentence_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and fragment in last, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error")] == [last]


def test_import_then_export(voronka, engine, tmp_path):
    rows = [
        ["ФИО", "Телефон", "Ответственный", "Любимый цвет"],
        ["Анна", "+79996660001", email_of("M1"), "зелёный"],
        ["Борис", "+79996660002", "", ""],
    ]
    path = write_csv(tmp_path / "clients.csv", rows, delimiter=";", encoding="cp1251")
    result = voronka("import", "clients", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["created"], report["unknown_columns"]) == (2, ["Любимый цвет"])
    assert "read 2 of 2 rows" in result.stderr
    assert "note: column 'Любимый цвет' matches no field" in result.stderr
    assert {"Анна", "Борис"} <= {row[0] for row in snapshots.clients(engine)}

    exported = voronka("export", "clients", "--out", "all.csv")
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.strip() == "exported 5 clients to all.csv"
    text = (tmp_path / "all.csv").read_text(encoding="utf-8-sig")
    names = [row["name"] for row in csv.DictReader(io.StringIO(text))]
    assert names == ["Client C1", "Client C2", "Client C3", "Анна", "Борис"]
    assert voronka("export", "clients", "--out", "all.xlsx").returncode == 0
    assert [row[1] for row in read_xlsx(tmp_path / "all.xlsx")[1:]] == names
    (event, *_) = snapshots.audit_events(engine, "export")
    assert (event.actor_kind, event.row_count, event.detail) == (
        "system",
        5,
        {"export": "clients", "format": "csv", "filter": {}},
    )


def test_export_to_standard_output(voronka):
    result = voronka("export", "clients")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip("\ufeff").splitlines()[0].startswith("id,name,kind,phone")


def test_atomic_failure_prints_the_report_and_writes_nothing(voronka, engine, tmp_path):
    rows = [["Имя", "Телефон"], ["Хороший", "+79996660003"], ["Плохой", "12"]]
    path = write_csv(tmp_path / "c.csv", rows)
    result = voronka("import", "clients", str(path), "--report", "problems.csv")
    assert_one_sentence_error(result, "1 row(s) failed, so nothing was written (atomic mode)")
    assert "not a possible phone number" in result.stdout
    problems = (tmp_path / "problems.csv").read_text(encoding="utf-8-sig")
    assert problems.splitlines()[1] == (
        "3,Телефон,phone,12,not a possible phone number (wrong number of digits)"
    )
    assert "Хороший" not in {row[0] for row in snapshots.clients(engine)}
    dry = voronka("import", "clients", str(path), "--mode", "per-row", "--dry-run")
    assert_one_sentence_error(dry, "1 row(s) would fail")
    assert "dry run: nothing was written" in dry.stderr
    per_row = voronka("import", "clients", str(path), "--mode", "per-row", "--batch-size", "1")
    assert_one_sentence_error(per_row, "1 row(s) failed; the other rows were written")
    assert "Хороший" in {row[0] for row in snapshots.clients(engine)}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["import", "clients", "missing.csv"], "no such file: missing.csv"),
        (["import", "clients", "notes.pdf"], "unsupported file type .pdf: use .csv or .xlsx"),
        (["import", "clients", "c.csv", "--map", "Nope=name"], "the file has no column 'Nope'"),
        (["import", "clients", "c.csv", "--map", "Имя"], "must look like 'Column=field'"),
        (["import", "clients", "c.csv", "--owner", "ghost@example.ru"], "default owner"),
        (["export", "clients", "--out", "x.txt"], "unsupported file type .txt for --out"),
        (["export", "deals", "--format", "xlsx"], "an XLSX export needs --out FILE.xlsx"),
        (["export", "clients", "--out", "nowhere/x.csv"], "no such directory: nowhere"),
    ],
)
def test_mistakes_end_in_one_sentence(voronka, tmp_path, args, fragment):
    write_csv(tmp_path / "c.csv", [["Имя"], ["Анна"]])
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    assert_one_sentence_error(voronka(*args), fragment)


def test_bulk_import_ad_spend_and_runs_from_the_command_line(voronka, engine, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["name", "phone"], ["Один", "+79997770101"],
                                          ["Дубль C1", "+79990000001"]])
    dry = voronka("import", "clients", str(path), "--bulk", "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["created"] == 1
    assert "dry run: nothing was written" in dry.stderr
    real = voronka("import", "clients", str(path), "--bulk", "--mode", "per-row")
    assert real.returncode == 0, real.stderr
    assert "read 2 of 2 rows (committed through row 3)" in real.stderr
    listed = voronka("imports", "list", "--format", "json")
    runs = json.loads(listed.stdout)
    assert [(r["entity"], r["dry_run"], r["created"], r["duplicates"]) for r in runs] == [
        ("clients", False, 1, 1), ("clients", True, 1, 1)]
    spend = voronka("import", "ad-spend", str(Path(__file__).parents[2] / "docs" / "samples" /
                                             "vk_ads.csv"), "--platform", "vk")
    assert_one_sentence_error(spend, "3 row(s) failed, so nothing was written (atomic mode)")
    assert "no campaign has utm_campaign or name 'vk_retargeting'" in spend.stdout
    no_platform = voronka("import", "ad-spend", str(path))
    assert_one_sentence_error(no_platform, "ad-spend needs --platform")
    resume = voronka("imports", "resume", "999")
    assert_one_sentence_error(resume, "no bulk import run 999")
