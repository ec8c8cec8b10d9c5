"""``voronka import`` and ``voronka export``: every entity as CSV/XLSX, run as the operator
(or, for exports, ``--as`` a user, whose scope then applies).

Progress and notes go to standard error, results to standard output; a user mistake (missing
file, unknown column in ``--map``, unsupported extension …) ends in one sentence.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.cli import bulk_import
from voronka.cli.output import OutputFormat, emit, fail
from voronka.db import migrate
from voronka.db.session import get_engine, unit_of_work
from voronka.errors import InvalidInput, VoronkaError
from voronka.transfer import exporter, importer
from voronka.transfer.ad_spend.formats import AdFormat
from voronka.transfer.exporter import ExportEntity, ExportFilter
from voronka.transfer.exports.filters import resolve_words
from voronka.transfer.mapping import Entity, parse_pairs
from voronka.transfer.options import DEFAULT_BATCH_SIZE, ImportMode, ImportOptions, OnDuplicate
from voronka.transfer.reading import FileFormat, format_of
from voronka.transfer.report import ImportReport, errors_csv
from voronka.transfer.runs import DEFAULT_BULK_BATCH
from voronka.user.models import User

RESOURCE = {Entity.CLIENTS: "client", Entity.DEALS: "deal"}
SHOWN_ERRORS = 20
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class ImportTarget(StrEnum):
    CLIENTS = "clients"
    DEALS = "deals"
    TOUCHPOINTS = "touchpoints"
    PRODUCTS = "products"
    ACTIVITIES = "activities"
    ORDERS = "orders"
    AD_SPEND = "ad-spend"


def import_command(
    entity: Annotated[
        ImportTarget, typer.Argument(help="What the file holds.", show_default=False)
    ],
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file; row 1 names the columns.")],
    mode: Annotated[
        ImportMode,
        typer.Option(help="atomic: one bad row and nothing is written; per-row: good rows are."),
    ] = ImportMode.ATOMIC,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")
    ] = False,
    on_duplicate: Annotated[
        OnDuplicate,
        typer.Option(help="What to do with a row matching an existing record."),
    ] = OnDuplicate.SKIP,
    column_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="'Column=field' for a column not recognised; repeatable."),
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="E-mail of the owner of new records whose row names none.")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1, max=100_000,
            help=f"Rows read together (default {DEFAULT_BATCH_SIZE}; bulk: "
            f"{DEFAULT_BULK_BATCH['postgresql']} on PostgreSQL, "
            f"{DEFAULT_BULK_BATCH['sqlite']} on SQLite).",
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Also write the problems to this CSV file.")
    ] = None,
    format: Annotated[
        ReportFormat, typer.Option("--format", help="How to print the report.")
    ] = ReportFormat.TABLE,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="Clients and deals: the set-based loader (many thousand rows/s; recorded as an "
            "import run, resumable; duplicates skipped or created, not updated; deals keyed by "
            "external_id, with their stage_history). Touchpoints, products, activities and "
            "orders always (products and orders: --on-duplicate update rewrites a known SKU "
            "or order number).",
        ),
    ] = False,
    mapping_name: Annotated[
        str | None, typer.Option("--mapping", help="Use the saved mapping of this name (bulk).")
    ] = None,
    save_mapping: Annotated[
        str | None,
        typer.Option("--save-mapping", help="Save the --map pairs under this name (bulk)."),
    ] = None,
    platform: Annotated[
        AdFormat | None,
        typer.Option(help="ad-spend: the ad platform whose export the file is."),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(help="ad-spend: currency when the report names none (default setting)."),
    ] = None,
    create_products: Annotated[
        bool,
        typer.Option("--create-products",
                     help="orders: create a product for an unknown SKU (from product_name and "
                     "the line's prices) instead of reporting the row."),
    ] = False,
) -> None:
    """Import clients, deals, activities, touchpoints, products, orders or ad spend from a CSV
    or XLSX file (exit code 1 when a row failed)."""
    if not file.is_file():
        fail(f"no such file: {file}")
    if report is not None and not report.parent.is_dir():
        fail(f"no such directory for --report: {report.parent}")
    try:
        file_format = format_of(file.name)
        pairs = parse_pairs(column_map or [])
    except VoronkaError as exc:
        fail(exc.message)
    as_json = format is ReportFormat.JSON
    if entity is ImportTarget.AD_SPEND:
        if platform is None:
            fail("ad-spend needs --platform yandex, vk, google or generic")
        bulk_import.run_ad_spend(
            file, file_format, platform=platform, mode=mode, dry_run=dry_run,
            currency=currency, as_json=as_json, report=report,
        )
        return
    bulk_only = entity in (ImportTarget.TOUCHPOINTS, ImportTarget.PRODUCTS,
                           ImportTarget.ACTIVITIES, ImportTarget.ORDERS)
    if create_products and entity is not ImportTarget.ORDERS:
        fail("--create-products is an option of orders")
    if bulk or bulk_only or mapping_name or save_mapping:
        bulk_import.run_bulk(
            Entity(entity.value), file, file_format, mode=mode, dry_run=dry_run,
            on_duplicate=on_duplicate, explicit=pairs, mapping_name=mapping_name,
            save_mapping=save_mapping, batch_size=batch_size,
            owner=owner, as_json=as_json, report=report,
            extra={"create_products": True} if create_products else None,
        )
        return
    try:
        options = ImportOptions(
            mode=mode,
            dry_run=dry_run,
            on_duplicate=on_duplicate,
            batch_size=batch_size or DEFAULT_BATCH_SIZE,
            default_owner_email=owner,
            mapping=pairs,
            progress=_progress,
        )
        result = _run_import(Entity(entity.value), file, file_format, options)
    except VoronkaError as exc:
        fail(exc.message)
    if report is not None:
        report.write_text(errors_csv(result), encoding="utf-8-sig")
    _print_report(result, format)
    _finish(result)


def _run_import(
    entity: Entity, file: Path, file_format: FileFormat, options: ImportOptions
) -> ImportReport:
    engine = get_engine()
    migrate.ensure_current(engine)
    actor = Actor.system()
    with unit_of_work(engine) as session:
        return importer.import_file(
            session,
            actor=actor,
            scope=scope_for(actor, RESOURCE[entity], Action.IMPORT),
            entity=entity,
            path=file,
            file_format=file_format,
            options=options,
        )


def _progress(done: int, total: int | None) -> None:
    typer.echo(f"read {done} of {total} rows" if total else f"read {done} rows", err=True)


def _print_report(result: ImportReport, fmt: ReportFormat) -> None:
    for column in result.unknown_columns:
        typer.echo(f"note: column {column!r} matches no field and was not imported", err=True)
    if fmt is ReportFormat.JSON:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    counts = ("total", "created", "updated", "unchanged", "skipped", "failed")
    emit([{name: getattr(result, name) for name in counts}], OutputFormat.TABLE)
    if result.errors:
        typer.echo("")
        shown = [e.model_dump() for e in result.errors[:SHOWN_ERRORS]]
        emit([{k: "" if v is None else v for k, v in e.items()} for e in shown], OutputFormat.TABLE)
        if len(result.errors) > SHOWN_ERRORS:
            typer.echo(f"… and {len(result.errors) - SHOWN_ERRORS} more (see --report)")


def _finish(result: ImportReport) -> None:
    if result.dry_run:
        typer.echo("dry run: nothing was written", err=True)
    if not result.failed:
        return
    if result.committed:
        fail(f"{result.failed} row(s) failed; the other rows were written")
    if not result.dry_run and result.mode is ImportMode.ATOMIC:
        fail(f"{result.failed} row(s) failed, so nothing was written (atomic mode)")
    fail(f"{result.failed} row(s) would fail")


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def export_command(
    what: Annotated[ExportEntity, typer.Argument(help="What to export.", metavar="ENTITY")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="File to write (.csv or .xlsx); CSV to standard output if omitted."
        ),
    ] = None,
    format: Annotated[
        ExportFormat | None,
        typer.Option("--format", help="File format; by default the extension of --out."),
    ] = None,
    date_from: Annotated[
        datetime | None,
        typer.Option("--from", help="Period start, included (created, occurred or changed "
                     "date; no offset = workspace time zone).", formats=DATE_FORMATS),
    ] = None,
    date_to: Annotated[
        datetime | None,
        typer.Option("--to", help="Period end, excluded.", formats=DATE_FORMATS),
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="Only records owned by the user with this e-mail.")
    ] = None,
    pipeline: Annotated[
        str | None, typer.Option(help="deals, deal-stages: only this pipeline (by name).")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="deals: open|won|lost; orders: new, paid, … .")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="activities: call, email, …; touchpoints: visit, … .")
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Export as this user (e-mail): their role and record scope "
                     "apply. Default: the operator (everything)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress lines.")] = False,
) -> None:
    """Export clients, companies, deals, deal stage history, activities, orders (one row per
    line), products or touchpoints (spreadsheet-safe: formulas neutralised; audited)."""
    file_format = _export_format(out, format)
    engine = get_engine()
    try:
        migrate.ensure_current(engine)
        with unit_of_work(engine, write=False) as session:
            actor = _export_actor(session, as_user)
            scope = exporter.scope_of(actor, what)
            export_filter = resolve_words(
                session, actor, ExportFilter(date_from=date_from, date_to=date_to,
                                             status=status, kind=kind),
                owner_email=owner, pipeline_name=pipeline,
            )
            exporter.check(session, actor=actor, scope=scope, entity=what,
                           export_filter=export_filter)
            total = None if quiet else exporter.count(
                session, actor=actor, scope=scope, entity=what, export_filter=export_filter)
            written = _write_export(
                session, actor, scope, what, file_format, out, export_filter,
                None if quiet else _export_progress(total),
            )
        with unit_of_work(engine) as session:
            exporter.record(
                session,
                actor=actor,
                entity=what,
                file_format=file_format,
                row_count=written,
                export_filter=export_filter,
            )
    except VoronkaError as exc:
        fail(exc.message)
    typer.echo(f"exported {written} {what.value} to {out or 'standard output'}", err=True)


def _export_actor(session: Session, email: str | None) -> Actor:
    """The operator, or the active user ``--as`` names (their role and team)."""
    if email is None:
        return Actor.system()
    user = session.scalar(
        select(User).where(func.lower(User.email) == email.strip().lower(),
                           User.is_active.is_(True))
    )
    if user is None:
        raise InvalidInput(f"--as: no active user with e-mail {email!r}")
    return Actor(user.id, user.workspace_id, user.role, user.team_id)


def _export_progress(total: int | None) -> exporter.Progress:
    def show(done: int) -> None:
        typer.echo(f"exported {done} of {total} rows" if total else f"exported {done} rows",
                   err=True)

    return show


def _export_format(out: Path | None, chosen: ExportFormat | None) -> FileFormat:
    if out is None:
        if chosen is ExportFormat.XLSX:
            fail("an XLSX export needs --out FILE.xlsx")
        return FileFormat.CSV
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        fail(f"unsupported file type {suffix or '(none)'} for --out: use .csv or .xlsx")
    if chosen is not None and suffix != f".{chosen.value}":
        fail(f"--format {chosen.value} does not match the extension of {out.name}")
    if not out.parent.is_dir():
        fail(f"no such directory: {out.parent}")
    return FileFormat(suffix[1:])


def _write_export(
    session: Session,
    actor: Actor,
    scope: Scope,
    entity: ExportEntity,
    file_format: FileFormat,
    out: Path | None,
    export_filter: ExportFilter,
    progress: exporter.Progress | None,
) -> int:
    """Write to a temporary file next to ``out`` and rename it, so a failed export leaves
    no half-written file behind."""

    def write(target: BinaryIO) -> int:
        return exporter.write(
            session,
            actor=actor,
            scope=scope,
            entity=entity,
            file_format=file_format,
            target=target,
            export_filter=export_filter,
            progress=progress,
        )

    if out is None:
        return write(sys.stdout.buffer)
    handle, temporary = tempfile.mkstemp(prefix=".voronka-export-", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as target:
            written = write(target)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
