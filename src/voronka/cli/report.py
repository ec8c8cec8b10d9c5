"""``voronka report``: run any report from the catalogue as the operator."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from voronka.access.actor import Actor
from voronka.cli.output import OutputFormat, emit, fail
from voronka.config import get_settings
from voronka.db.session import get_engine, unit_of_work
from voronka.errors import VoronkaError


def _value(text: str) -> Any:
    """``--set`` values: JSON when they parse (numbers, lists, objects), else text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.split(",") if "," in text else text


def _query(start: str | None, end: str | None, settings: list[str], raw: str | None) -> dict:  # type: ignore[type-arg]
    query: dict[str, Any] = json.loads(raw) if raw else {}
    if start or end:
        query["period"] = {"start": start or end, "end": end or start}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--set takes key=value, got {item!r}")
        query[key.strip()] = _value(value.strip())
    return query


def report(
    name: Annotated[str, typer.Argument(help="Report name: metrics, funnel, dynamics, …")],
    start: Annotated[str | None, typer.Option(help="First day of the period (YYYY-MM-DD).")]
    = None,
    end: Annotated[str | None, typer.Option(help="Last day of the period (YYYY-MM-DD).")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="Query field as key=value "
                                            "(JSON values; a,b,c for lists). Repeatable.")] = [],  # noqa: B006
    query: Annotated[str | None, typer.Option(help="The whole query as JSON.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
    = OutputFormat.TABLE,
) -> None:
    """Run a report on the configured engine and print its rows.

    Example: voronka report metrics --start 2026-03-01 --end 2026-03-31 --set metrics=leads,cpl
    --set breakdown=channel
    """
    from voronka.analytics import service

    try:
        parsed = _query(start, end, set_, query)
    except json.JSONDecodeError as exc:
        fail(f"--query is not valid JSON: {exc.msg}")
    try:
        with unit_of_work(get_engine(), write=False) as session:
            result = service.run(session, Actor.system(), name, parsed, get_settings())
    except VoronkaError as exc:
        detail = f" ({exc.details[0].field}: {exc.details[0].message})" if exc.details else ""
        fail(exc.message + detail)
    if format is OutputFormat.JSON:
        typer.echo(result.model_dump_json(indent=2))
        return
    emit(result.rows, format)
    if format is OutputFormat.TABLE:
        typer.echo(f"\n{len(result.rows)} rows · {result.engine} · {result.seconds:.3f} s",
                   err=True)


def snapshot(
    force: Annotated[bool, typer.Option(help="Refresh even when the snapshot is fresh.")]
    = True,
) -> None:
    """Refresh the analytics snapshot (Parquet) from the store."""
    from voronka.analytics import engine

    settings = get_settings()
    url = get_engine().url.render_as_string(hide_password=False)
    actions = engine.ensure_snapshot(settings, url, force=force)
    changed = {t: a for t, a in actions.items() if a != "unchanged"}
    typer.echo(f"snapshot in {engine.snapshot_dir(settings, url)}: "
               + (", ".join(f"{t} {a}" for t, a in changed.items()) or "nothing changed"))
