"""The `voronka` command as a user runs it: real processes, one-sentence errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VORONKA = Path(sys.executable).with_name("voronka")


@pytest.fixture
def run(tmp_path: Path):
    env = {**os.environ, "VORONKA_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
           "VORONKA_PASSWORD_HASH_COST": "light"}

    def invoke(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(VORONKA), *args], env=env, capture_output=True, text=True,
                              input=input, timeout=120)

    return invoke


def assert_one_sentence_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and fragment in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_everywhere(run):
    for args in ([], ["db"], ["users"], ["users", "create"], ["demo"], ["serve"]):
        result = run(*args, "--help")
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage" in result.stdout


def test_users_lifecycle_and_mistakes(run):
    assert run("db", "upgrade").returncode == 0
    assert run("db", "check").returncode == 0
    created = run("users", "create", "--email", "Boss@Example.RU", "--role", "admin",
                  "--name", "Boss", "--password", "long enough pw")
    assert created.returncode == 0, created.stderr
    run("users", "create", "--email", "m@example.ru", "--role", "sales_manager",
        "--team", "Sales", "--password", "long enough pw")
    listed = json.loads(run("users", "list", "--format", "json").stdout)
    assert [(u["email"], u["role"], u["team"]) for u in listed] == [
        ("boss@example.ru", "admin", ""), ("m@example.ru", "sales_manager", "Sales")]
    assert_one_sentence_error(run("users", "set-role", "nobody@example.ru", "admin"),
                              "no user with e-mail")
    assert_one_sentence_error(run("users", "set-role", "boss@example.ru", "analyst"),
                              "last active administrator")
    assert_one_sentence_error(
        run("users", "create", "--email", "m@example.ru", "--role", "analyst",
            "--password", "long enough pw"), "exists")
    assert_one_sentence_error(
        run("users", "create", "--email", "x@example.ru", "--role", "analyst",
            "--password", "short"), "at least 10")


def test_serve_refuses_an_unmigrated_store(run):
    assert_one_sentence_error(run("serve"), "voronka db upgrade")


def test_bad_setting_is_one_sentence(run):
    env_run = subprocess.run([str(VORONKA), "users", "list"],
                             env={**os.environ, "VORONKA_PAGE_SIZE_MAX": "lots"},
                             capture_output=True, text=True, timeout=60)
    assert_one_sentence_error(env_run, "VORONKA_PAGE_SIZE_MAX")
