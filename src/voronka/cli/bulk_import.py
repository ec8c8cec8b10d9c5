"""The bulk and ad-spend paths of ``voronka import``, and ``voronka imports list|resume``.

Bulk imports are recorded in ``import_run`` and run here, in this process, batch by batch
with progress on standard error; a per-row run stopped half-way (Ctrl-C, a crash) is
continued with ``voronka imports resume ID``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from voronka.access.actor import Actor
from voronka.cli.output import OutputFormat, emit, fail
from voronka.db import migrate
from voronka.db.session import get_engine, unit_of_work
from voronka.errors import VoronkaError
from voronka.transfer import runs
from voronka.transfer.ad_spend import loader as ad_spend
from voronka.transfer.ad_spend.formats import AdFormat
from voronka.transfer.bulk import runner
from voronka.transfer.mapping import Entity
from voronka.transfer.models import ImportRun, RunStatus
from voronka.transfer.options import ImportMode, OnDuplicate
from voronka.transfer.reading import FileFormat
from voronka.transfer.report import RowError, rows_csv

SHOWN_ERRORS = 20
app = typer.Typer(help="Bulk import runs: list them, resume a stopped one.", no_args_is_help=True)


def run_bulk(
    entity: Entity,
    file: Path,
    file_format: FileFormat,
    *,
    mode: ImportMode,
    dry_run: bool,
    on_duplicate: OnDuplicate,
    explicit: dict[str, str],
    mapping_name: str | None,
    save_mapping: str | None,
    batch_size: int | None,
    owner: str | None,
    as_json: bool,
    report: Path | None,
    extra: dict[str, object] | None = None,
) -> None:
    """Record a run for ``file`` and execute it here, showing progress (``extra``: options
    of one entity, such as ``create_products`` of orders)."""
    engine = get_engine()
    actor = Actor.system()
    try:
        migrate.ensure_current(engine)
        with unit_of_work(engine) as session:
            if mapping_name:
                explicit = {**runs.mapping_named(session, actor=actor, entity=entity,
                                                 name=mapping_name), **explicit}
            if save_mapping:
                runs.save_mapping(session, actor=actor, data=runs.MappingIn(
                    name=save_mapping, entity=entity, columns=explicit))
            run = runs.create_run(
                session, actor=actor, entity=entity, file_name=file.name,
                file_format=file_format, stored_path=file.resolve(), mode=mode,
                dry_run=dry_run, on_duplicate=on_duplicate, explicit_mapping=explicit,
                batch_size=batch_size, default_owner_email=owner, extra=extra,
            )
        typer.echo(f"import run {run.id}", err=True)
        result = runner.execute(engine, run.id, actor=actor, progress=_progress)
    except VoronkaError as exc:
        fail(exc.message)
    show(result, as_json=as_json, report=report)


def run_ad_spend(
    file: Path,
    file_format: FileFormat,
    *,
    platform: AdFormat,
    mode: ImportMode,
    dry_run: bool,
    currency: str | None,
    as_json: bool,
    report: Path | None,
) -> None:
    engine = get_engine()
    actor = Actor.system()
    try:
        migrate.ensure_current(engine)
        with unit_of_work(engine) as session:
            run = ad_spend.import_report(
                session, actor=actor, path=file, file_name=file.name, file_format=file_format,
                ad_format=platform, mode=mode, dry_run=dry_run, currency=currency,
            )
    except VoronkaError as exc:
        fail(exc.message)
    show(run, as_json=as_json, report=report)


def _progress(done: int, total: int | None, checkpoint: int) -> None:
    shown = f"{done} of {total}" if total else str(done)
    typer.echo(f"read {shown} rows (committed through row {checkpoint})", err=True)


def show(run: ImportRun, *, as_json: bool, report: Path | None) -> None:
    """Print a run's counts and first problems; exit 1 when rows failed."""
    detail = runs.RunDetail.of(run)
    if report is not None:
        report.write_text(_errors_csv(detail.errors), encoding="utf-8-sig")
    for column in detail.unknown_columns:
        typer.echo(f"note: column {column!r} matches no field and was not imported", err=True)
    if as_json:
        typer.echo(json.dumps(detail.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        counts = ("id", "status", "total", "created", "updated", "duplicates", "failed")
        emit([{name: getattr(detail, name) for name in counts}], OutputFormat.TABLE)
        if detail.errors:
            typer.echo("")
            shown = [e.model_dump() for e in detail.errors[:SHOWN_ERRORS]]
            emit([{k: "" if v is None else v for k, v in e.items()} for e in shown],
                 OutputFormat.TABLE)
    _finish(run)


def _errors_csv(errors: list[RowError]) -> str:
    return rows_csv(errors)


def _finish(run: ImportRun) -> None:
    if run.dry_run:
        typer.echo("dry run: nothing was written", err=True)
    if not run.failed:
        return
    if run.status is RunStatus.REFUSED:
        fail(f"{run.failed} row(s) failed, so nothing was written (atomic mode)")
    if run.dry_run:
        fail(f"{run.failed} row(s) would fail")
    fail(f"{run.failed} row(s) failed; the other rows were written")


@app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many runs to show.")] = 20,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
) -> None:
    """List the latest import runs with their status and counts."""
    engine = get_engine()
    migrate.ensure_current(engine)
    actor = Actor.system()
    from voronka.access.policy import Scope

    with unit_of_work(engine, write=False) as session:
        found, _ = runs.list_runs(session, actor=actor, scope=Scope.ALL, limit=limit)
        rows = [
            runs.RunOut.model_validate(run).model_dump(
                mode="json", include={"id", "entity", "file_name", "status", "mode", "dry_run",
                                      "total", "created", "duplicates", "failed",
                                      "checkpoint_row"})
            for run in found
        ]
    if not rows and format is OutputFormat.TABLE:
        typer.echo("no import runs", err=True)
        return
    emit(rows, format)


@app.command("resume")
def resume(
    run_id: Annotated[int, typer.Argument(help="The run to continue (see `voronka imports list`).")],
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Continue a stopped bulk import after its last committed row (atomic runs start over)."""
    engine = get_engine()
    try:
        migrate.ensure_current(engine)
        with unit_of_work(engine, write=False) as session:
            run = session.get(ImportRun, run_id)
            if run is None or run.stored_path is None:
                fail(f"no bulk import run {run_id}")
            if not Path(run.stored_path).is_file():
                fail(f"the file of run {run_id} is gone: {run.stored_path}")
        result = runner.execute(engine, run_id, actor=Actor.system(), progress=_progress)
    except VoronkaError as exc:
        fail(exc.message)
    show(result, as_json=format == "json", report=None)
