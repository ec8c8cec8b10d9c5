"""Users: creation, roles, activation and sign-in."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.audit import service as audit
from voronka.client.contact import normalize_email
from voronka.errors import Conflict, ErrorDetail, InvalidInput, NotAuthenticated
from voronka.user import credential, repository
from voronka.user.models import Role, Team, User
from voronka.user.password import MIN_PASSWORD_LENGTH, hash_password, verify_password


class LastAdmin(Conflict):
    code = "last_admin"


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters",
            [ErrorDetail("too short", field="password")],
        )


def create_user(
    session: Session,
    *,
    actor: Actor,
    email: str,
    name: str,
    role: Role,
    password: str | None,
    team_id: int | None = None,
) -> User:
    """Create an employee account."""
    try:
        email = normalize_email(email)
    except ValueError as exc:
        raise InvalidInput(f"email: {exc}", [ErrorDetail(str(exc), field="email")]) from exc
    if repository.by_email(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} exists", [ErrorDetail("taken", field="email")])
    if password is not None:
        _check_password(password)
    if team_id is not None and session.get(Team, team_id) is None:
        raise InvalidInput("team_id: no such team", [ErrorDetail("unknown", field="team_id")])
    user = User(
        workspace_id=actor.workspace_id,
        email=email,
        name=name,
        role=role,
        team_id=team_id,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, action="create", entity="user", entity_id=user.id)
    return user


def _guard_last_admin(session: Session, user: User) -> None:
    if user.role is not Role.ADMIN:
        return
    # lock the admins' rows so two admins demoting each other cannot both pass (PostgreSQL)
    session.scalars(
        select(User.id)
        .where(User.workspace_id == user.workspace_id, User.role == Role.ADMIN)
        .with_for_update()
    ).all()
    if repository.active_admin_count(session, user.workspace_id) <= 1:
        raise LastAdmin("the last active administrator cannot be demoted or deactivated")


def set_role(session: Session, *, actor: Actor, user: User, role: Role) -> User:
    """Change a user's role; their sessions and tokens stop working at once."""
    if role is not user.role:
        _guard_last_admin(session, user)
        changes = audit.redact_changes(User, {"role": (user.role.value, role.value)})
        user.role = role
        credential.revoke_all(session, user)
        audit.record(
            session, actor, action="update", entity="user", entity_id=user.id, changes=changes
        )
    return user


def set_active(session: Session, *, actor: Actor, user: User, active: bool) -> User:
    """Activate or deactivate a user; deactivation revokes every session and token."""
    if not active and user.is_active:
        _guard_last_admin(session, user)
        credential.revoke_all(session, user)
    if active != user.is_active:
        user.is_active = active
        audit.record(
            session,
            actor,
            action="update",
            entity="user",
            entity_id=user.id,
            changes={"is_active": [not active, active]},
        )
    return user


def set_password(session: Session, *, actor: Actor, user: User, password: str) -> None:
    _check_password(password)
    user.password_hash = hash_password(password)
    credential.revoke_all(session, user)
    audit.record(
        session,
        actor,
        action="update",
        entity="user",
        entity_id=user.id,
        changes={"password_hash": [audit.CHANGED, audit.CHANGED]},
    )


def authenticate(session: Session, *, email: str, password: str, ip: str | None) -> User:
    """Return the active user with these credentials, or raise one uniform error."""
    user = repository.by_email(session, email)
    valid = verify_password(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        raise NotAuthenticated("wrong e-mail or password")
    # a Core UPDATE: signing in must not bump the version an admin's edit form holds
    session.execute(update(User).where(User.id == user.id).values(last_login_at=clock.now()))
    return user
