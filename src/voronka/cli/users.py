"""``voronka users``: accounts and roles, run as the operator."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from voronka.access.actor import Actor
from voronka.cli.output import OutputFormat, emit, fail
from voronka.db.session import get_engine, unit_of_work
from voronka.errors import VoronkaError
from voronka.user import repository
from voronka.user import service as user_service
from voronka.user.models import Role, Team, User
from voronka.workspace.service import ensure_default

app = typer.Typer(help="User accounts: create, list, set-role.", no_args_is_help=True)


def _team_id(session, name: str | None) -> int | None:  # type: ignore[no-untyped-def]
    if name is None:
        return None
    team = repository.team_by_name(session, 1, name)
    if team is None:
        team = Team(workspace_id=1, name=name)
        session.add(team)
        session.flush()
    return team.id


@app.command()
def create(
    email: Annotated[str, typer.Option(help="Sign-in e-mail.")],
    role: Annotated[Role, typer.Option(help="Role of the user.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    team: Annotated[str | None, typer.Option(help="Team name (created if new).")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Password (10+ characters); prompted when omitted.", prompt=True,
                     hide_input=True, confirmation_prompt=True),
    ] = None,
) -> None:
    """Create a user who can sign in."""
    try:
        with unit_of_work(get_engine()) as session:
            ensure_default(session)
            user = user_service.create_user(
                session, actor=Actor.system(), email=email, name=name or email, role=role,
                password=password, team_id=_team_id(session, team),
            )
            typer.echo(f"created user {user.id} <{user.email}> as {user.role.value}")
    except VoronkaError as exc:
        fail(exc.message)


@app.command("list")
def list_users(
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.TABLE,
) -> None:
    """List users with their roles and teams."""
    with unit_of_work(get_engine(), write=False) as session:
        teams = {t.id: t.name for t in session.scalars(select(Team))}
        rows = [
            {"id": u.id, "email": u.email, "name": u.name, "role": u.role.value,
             "team": teams.get(u.team_id, "") if u.team_id else "", "active": u.is_active}
            for u in session.scalars(select(User).order_by(User.id))
        ]
    emit(rows, format)


@app.command("set-role")
def set_role(
    email: Annotated[str, typer.Argument(help="E-mail of the user.")],
    role: Annotated[Role, typer.Argument(help="New role.")],
) -> None:
    """Change a user's role (their sessions and tokens are revoked)."""
    try:
        with unit_of_work(get_engine()) as session:
            user = repository.by_email(session, email)
            if user is None:
                fail(f"no user with e-mail {email}")
            user_service.set_role(session, actor=Actor.system(), user=user, role=role)
            typer.echo(f"{user.email} is now {role.value}")
    except VoronkaError as exc:
        fail(exc.message)
