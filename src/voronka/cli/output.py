"""Machine and human output for CLI commands, and the one-sentence error exit."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NoReturn

import typer

from voronka.transfer import formula


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear sentence to stderr and exit non-zero (never a traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def emit(rows: Sequence[dict[str, Any]], fmt: OutputFormat) -> None:
    """Print rows as an aligned table, JSON or CSV."""
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(list(rows), ensure_ascii=False, indent=2, default=str))
        return
    columns = list(rows[0]) if rows else []
    if fmt is OutputFormat.CSV:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        # text that a spreadsheet would run as a formula gets an apostrophe, as in exports
        writer.writerows(
            {k: formula.neutralise(v) if isinstance(v, str) else v for k, v in row.items()}
            for row in rows
        )
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    typer.echo("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        typer.echo("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))
