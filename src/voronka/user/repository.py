"""Queries on users and teams."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import owner_condition
from voronka.user.models import Role, Team, User


def by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def visible_to(actor: Actor, scope: Scope) -> Select[tuple[User]]:
    """Users the actor may see: a user "owns" their own row."""
    return select(User).where(
        User.workspace_id == actor.workspace_id, owner_condition(User.id, actor, scope)
    )


def active_admin_count(session: Session, workspace_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                User.workspace_id == workspace_id, User.role == Role.ADMIN, User.is_active.is_(True)
            )
        )
        or 0
    )


def team_by_name(session: Session, workspace_id: int, name: str) -> Team | None:
    return session.scalar(select(Team).where(Team.workspace_id == workspace_id, Team.name == name))
