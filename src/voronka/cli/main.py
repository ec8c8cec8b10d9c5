"""Entry point of the ``voronka`` command."""

from __future__ import annotations

import logging
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from voronka.cli import db, users
from voronka.config import get_settings

app = typer.Typer(
    help="Voronka, the analytical CRM. Every command has --help.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
) -> None:
    """Run the web application (API under /api/v1)."""
    import uvicorn

    from voronka.db import migrate
    from voronka.db.session import get_engine

    settings = get_settings()
    migrate.ensure_current(get_engine())
    logging.basicConfig(level=logging.INFO)
    if settings.embedded_worker:
        from voronka.jobs.runner import start_embedded

        start_embedded(get_engine())
    uvicorn.run("voronka.web.asgi:app", host=host or settings.host, port=port or settings.port,
                workers=workers, proxy_headers=False)


def _register_optional() -> None:
    """Commands contributed by other areas (demo, import/export) register here."""
    from voronka.cli import analyze, demo, jobs, report, transfer

    app.add_typer(analyze.app, name="analyze")
    app.add_typer(jobs.app, name="jobs")
    from voronka.cli import hooks

    app.add_typer(hooks.app, name="hooks")
    from voronka.cli import mail

    app.add_typer(mail.app, name="mail")
    from voronka.cli import scoring

    app.add_typer(scoring.app, name="models")
    app.command(name="worker")(jobs.worker)
    app.command(name="demo")(demo.demo)
    app.command(name="report")(report.report)
    app.command(name="snapshot")(report.snapshot)
    app.command(name="import")(transfer.import_command)
    from voronka.cli import bulk_import

    app.add_typer(bulk_import.app, name="imports")
    app.command(name="export")(transfer.export_command)


def _exit_with(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def main() -> None:
    """Run the CLI; configuration and connection problems end in one sentence."""
    from voronka.errors import VoronkaError

    try:
        _register_optional()
        app()
    except ValidationError as exc:
        first = exc.errors()[0]
        _exit_with(f"setting VORONKA_{str(first['loc'][0]).upper()}: {first['msg']}")
    except OperationalError as exc:
        _exit_with(f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}")
    except VoronkaError as exc:  # the migrate guard and other expected failures
        _exit_with(exc.message)
