"""``voronka mail``: inbound e-mail leads."""

from __future__ import annotations

from typing import Annotated

import typer

from voronka.cli.output import OutputFormat, emit, fail

app = typer.Typer(help="Inbound e-mail: new messages of the lead mailbox become leads.",
                  no_args_is_help=True)


@app.command()
def poll(
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
) -> None:
    """Read new messages of the IMAP mailbox once and turn them into leads."""
    from voronka.db import migrate
    from voronka.db.session import get_engine
    from voronka.integrations.mail.imap import MailboxError
    from voronka.integrations.mail.service import poll as poll_mailbox

    engine = get_engine()
    migrate.ensure_current(engine)
    try:
        report = poll_mailbox(engine)
    except MailboxError as exc:
        fail(str(exc))
    row = report.as_dict()
    errors = row.pop("errors")
    emit([row], fmt)
    for line in errors:
        typer.echo(f"failed: {line}", err=True)
    if report.failed:
        raise typer.Exit(2)
