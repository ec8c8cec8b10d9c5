"""``voronka analyze attribution FILE``: every attribution model on a file of journeys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from voronka.analytics.attribution import Model, Paths, compare
from voronka.analytics.attribution.compare import TIMED
from voronka.cli.analyze.base import app, load, print_result, user_errors
from voronka.cli.output import OutputFormat

PATH_MODELS = [m.value for m in Model if m not in TIMED]


@app.command("attribution")
@user_errors
def attribution(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or XLSX: one journey (path) per row.")],
    path: Annotated[str, typer.Option(help="Column with the path: channels in time order.")],
    conversions: Annotated[str, typer.Option(help="Column: conversions of the journey.")],
    separator: Annotated[str, typer.Option(help="Separator between channels in a path.")] = ">",
    value: Annotated[str | None, typer.Option(help="Column: conversion value (revenue).")] = None,
    nulls: Annotated[str | None, typer.Option(
        help="Column: journeys on this path without a conversion (Markov needs them).")] = None,
    order: Annotated[int, typer.Option(help="Markov chain order, 1 to 3.")] = 1,
    models: Annotated[str, typer.Option(
        help=f"Comma-separated models: {', '.join(PATH_MODELS)}.")] = ",".join(PATH_MODELS),
    direct: Annotated[str, typer.Option(
        help="Comma-separated channel names that count as direct.")] = "direct",
    first: Annotated[float, typer.Option(help="Position-based: first touch share.")] = 0.4,
    last: Annotated[float, typer.Option(help="Position-based: last touch share.")] = 0.4,
    delimiter: Annotated[str, typer.Option(help="CSV field separator.")] = ",",
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Credit conversions and value to channels by every model, side by side."""
    chosen = _models(models)
    columns = [c for c in (path, conversions, value, nulls) if c]
    frame = load(file, columns, separator=delimiter)
    journeys = Paths.from_frame(frame, path=path, conversions=conversions, value=value,
                                nulls=nulls, separator=separator)
    if not 1 <= order <= 3:
        raise ValueError(f"--order must be 1, 2 or 3, not {order}")
    table = compare(journeys, chosen, order=order,
                    direct=[d.strip() for d in direct.split(",") if d.strip()],
                    first=first, last=last)
    rows = [_row(r) for r in table.to_dict("records")]
    result: dict[str, Any] = {
        "journeys": len(journeys),
        "channels": list(journeys.channels),
        "conversions": journeys.total_conversions,
        "value": journeys.total_value,
        "nulls": float(journeys.nulls.sum()),
        "order": order,
        "attribution": _nested(rows),
        "rows": rows,
    }
    if format is not OutputFormat.JSON:
        result["rows"] = [{k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()}
                          for r in rows]
    print_result(result, format, table_key="rows")


def _models(raw: str) -> list[Model]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in PATH_MODELS]
    if unknown or not names:
        raise ValueError(f"--models: unknown model {unknown[0]!r}; use {', '.join(PATH_MODELS)}"
                         if unknown else "--models: name at least one model")
    return [Model(n) for n in names]


def _row(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: record[k] for k in ("model", "channel", "conversions", "value",
                                  "conversion_share_pct")}
    if record["model"] == Model.MARKOV.value:
        out["removal_effect"] = record["removal_effect"]
        out["value_removal_effect"] = record["value_removal_effect"]
    return out


def _nested(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{model: {channel: figures}}`` for JSON readers."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        figures = {k: v for k, v in r.items() if k not in ("model", "channel")}
        out.setdefault(r["model"], {})[r["channel"]] = figures
    return out
