"""Docs stay complete: every setting and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

import typer

from voronka.cli import main as cli_main
from voronka.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text()
    missing = [n for n in Settings.model_fields if f"`VORONKA_{n.upper()}`" not in text]
    assert missing == []


def _command_paths(group: typer.Typer, prefix: str) -> list[str]:
    paths = [f"{prefix} {c.name or c.callback.__name__}".strip()
             for c in group.registered_commands]
    for sub in group.registered_groups:
        paths += _command_paths(sub.typer_instance, f"{prefix} {sub.name}")
    return paths


def test_every_cli_command_is_documented():
    cli_main._register_optional()
    text = (DOCS / "cli.md").read_text()
    missing = [p for p in _command_paths(cli_main.app, "voronka") if f"`{p}" not in text]
    assert missing == []


def test_every_metric_is_documented_with_its_formula():
    from voronka.analytics.metrics.registry import METRICS

    text = (DOCS / "analytics.md").read_text()
    missing = [m.slug for m in METRICS.values()
               if f"| `{m.slug}` | {m.label_en} | {m.label_ru} |" not in text
               or m.formula not in text]
    assert missing == []


def test_every_endpoint_is_listed_in_the_api_doc():
    from voronka.web.api_doc import BEGIN, END, endpoint_table

    text = (DOCS / "api.md").read_text()
    assert f"{BEGIN}\n{endpoint_table()}\n{END}" in text, (
        "regenerate: python -m voronka.web.api_doc --write docs/api.md")
