"""The ``analyze`` command group and what its commands share: reading the file, printing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pandas as pd
import typer

from voronka.analytics.files import read_table
from voronka.cli.output import OutputFormat, emit, fail
from voronka.errors import VoronkaError

app = typer.Typer(
    help="Analyst mode: run a model on a CSV, Parquet or XLSX file, columns named by options.",
    no_args_is_help=True,
)

P = ParamSpec("P")
R = TypeVar("R")


def load(path: Path, columns: Iterable[str], *, separator: str = ",") -> pd.DataFrame:
    """Read the named columns of ``path``; a mistake ends the command with one sentence."""
    try:
        return read_table(path, columns, separator=separator)
    except VoronkaError as exc:
        fail(exc.message)


def print_result(result: dict[str, Any], fmt: OutputFormat, table_key: str | None = None) -> None:
    """Print the whole result as JSON, or its ``table_key`` rows as a table or CSV."""
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_plain))
        return
    rows = result.get(table_key, []) if table_key else [result]
    emit(rows, fmt)


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the model's input errors (VoronkaError, ValueError) into one-sentence exits."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except VoronkaError as exc:
            fail(exc.message)
        except ValueError as exc:
            fail(str(exc))

    return wrapper


def _plain(value: Any) -> Any:
    """JSON for numpy scalars, dates and other values ``json`` does not know."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)
