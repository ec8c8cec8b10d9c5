"""``voronka hooks``: the inbound webhook log, replay of failed events, Asterisk CDR import
and the extension → manager map of telephony."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voronka.cli.output import OutputFormat, emit, fail
from voronka.db.session import get_engine, unit_of_work

app = typer.Typer(help="Webhooks and telephony: inbound log, replay, CDR import, extensions.",
                  no_args_is_help=True)


def _status(value: str):  # type: ignore[no-untyped-def]
    from voronka.integrations.inbound import InboundStatus

    try:
        return InboundStatus(value)
    except ValueError:
        fail(f"--status must be one of {', '.join(s.value for s in InboundStatus)}")


@app.command("list")
def list_events(
    provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
    status: Annotated[str, typer.Option(help="received, processed, failed or ignored.")]
    = "failed",
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Oldest events shown.")] = 100,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
    = OutputFormat.TABLE,
) -> None:
    """List stored webhook events with their status and error (oldest first)."""
    from voronka.integrations import inbound

    with unit_of_work(get_engine(), write=False) as session:
        events = inbound.replayable(session, provider=provider, status=_status(status))[:limit]
        rows = [
            {"id": e.id, "provider": e.provider, "kind": e.kind, "external_id": e.external_id,
             "received_at": e.received_at.isoformat(timespec="seconds"),
             "status": e.status.value, "attempts": e.attempts, "error": (e.error or "")[:120]}
            for e in events
        ]
    emit(rows, format)


@app.command("replay")
def replay(
    provider: Annotated[str | None, typer.Option(help="Only events of this provider.")] = None,
    status: Annotated[str, typer.Option(help="Replay events with this status.")] = "failed",
    id: Annotated[int | None, typer.Option("--id", help="Only the event with this id.")] = None,
) -> None:
    """Queue stored events again (failed ones by default); the worker processes them."""
    from voronka.integrations import inbound

    chosen = _status(status)
    if chosen is inbound.InboundStatus.PROCESSED:
        fail("processed events are not replayed: their changes are stored already")
    with unit_of_work(get_engine()) as session:
        events = inbound.replayable(session, provider=provider, status=chosen, event_id=id)
        if id is not None and not events:
            fail(f"no {chosen.value} event with id {id}")
        queued = inbound.replay(session, events)
    typer.echo(f"queued {queued} event(s) for processing")


@app.command("asterisk-cdr")
def asterisk_cdr(
    file: Annotated[Path, typer.Argument(help="CDR file (Asterisk cdr_csv Master.csv).")],
) -> None:
    """Import Asterisk call records; one bad row and nothing is imported."""
    from voronka.access.actor import Actor
    from voronka.config import get_settings
    from voronka.integrations.telephony.receiver import import_cdr

    if not file.is_file():
        fail(f"no such file: {file}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    settings = get_settings()
    with unit_of_work(get_engine()) as session:
        counts = import_cdr(session, settings,
                            actor=Actor.system(settings.hooks_workspace_id), text=text)
    typer.echo(f"{counts['rows']} row(s): {counts['stored']} queued, "
               f"{counts['duplicates']} already imported")


@app.command("extension")
def extension(
    number: Annotated[str, typer.Argument(help="Internal extension of the PBX, e.g. 101.")],
    email: Annotated[str | None, typer.Argument(help="E-mail of the manager; omit with --remove.")]
    = None,
    remove: Annotated[bool, typer.Option(help="Forget the extension.")] = False,
) -> None:
    """Route calls answered on an extension to a manager (screen pop, call owner)."""
    from sqlalchemy import func, select

    from voronka.access.actor import Actor
    from voronka.config import get_settings
    from voronka.integrations.telephony.service import set_extension
    from voronka.user.models import User

    if (email is None) != remove:
        fail("give the manager's e-mail, or --remove without one")
    actor = Actor.system(get_settings().hooks_workspace_id)
    with unit_of_work(get_engine()) as session:
        user_id = None
        if email is not None:
            user_id = session.scalar(select(User.id).where(
                func.lower(User.email) == email.strip().lower()))
            if user_id is None:
                fail(f"no user with e-mail {email}")
        set_extension(session, actor=actor, extension=number, user_id=user_id)
    typer.echo(f"extension {number}: " + (email or "removed"))


@app.command("extensions")
def extensions(
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
    = OutputFormat.TABLE,
) -> None:
    """List the extension → manager map."""
    from voronka.config import get_settings
    from voronka.integrations.telephony import repository
    from voronka.user.models import User

    with unit_of_work(get_engine(), write=False) as session:
        rows = []
        for row in repository.extensions(session, get_settings().hooks_workspace_id):
            user = session.get(User, row.user_id)
            rows.append({"extension": row.extension, "user_id": row.user_id,
                         "email": user.email if user else ""})
    emit(rows, format)
