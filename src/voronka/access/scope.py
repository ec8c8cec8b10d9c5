"""Record scope as SQL: which owners' records an actor may touch, applied in one place."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.client.models import Client
from voronka.errors import ErrorDetail, Forbidden, InvalidInput
from voronka.user.models import User


def team_member_ids(actor: Actor) -> Select[tuple[int]]:
    return select(User.id).where(User.team_id == actor.team_id, User.team_id.is_not(None))


def owner_condition(owner_column: ColumnElement[int | None], actor: Actor, scope: Scope):  # type: ignore[no-untyped-def]
    """SQL condition on an owner column for ``scope``.

    ``team`` includes unassigned records (owner NULL) so heads of sales can hand them out.
    """
    if scope is Scope.ALL:
        return true()
    if scope is Scope.TEAM and actor.team_id is not None:
        return or_(owner_column.in_(team_member_ids(actor)), owner_column.is_(None))
    if scope in (Scope.TEAM, Scope.OWN) and actor.user_id is not None:
        return owner_column == actor.user_id
    return false()


def visible_client_ids(actor: Actor, scope: Scope) -> Select[tuple[int]]:
    """Ids of the workspace's live clients the actor may see with ``scope``."""
    return select(Client.id).where(
        Client.workspace_id == actor.workspace_id,
        Client.is_deleted.is_(False),
        owner_condition(Client.owner_id, actor, scope),
    )


def client_bound_condition(client_column: ColumnElement[int | None], actor: Actor, scope: Scope):  # type: ignore[no-untyped-def]
    """Condition for records attached to a client: visible exactly when the client is.

    Also for the ``all`` scope: a deleted client hides its records, and the workspace filter
    holds even when a repository forgets its own. Records with no client at all (anonymous
    visitors' touchpoints) are within the ``all`` scope only.
    """
    attached = client_column.in_(visible_client_ids(actor, scope))
    return or_(client_column.is_(None), attached) if scope is Scope.ALL else attached


def owner_in_scope(session: Session, actor: Actor, scope: Scope, owner_id: int | None) -> bool:
    """Whether a record owned by ``owner_id`` is within ``scope`` (for writes and reassign)."""
    if scope is Scope.ALL:
        return True
    if owner_id is None:
        return scope is Scope.TEAM
    if owner_id == actor.user_id:
        return True
    if scope is Scope.TEAM and actor.team_id is not None:
        team_id = session.scalar(select(User.team_id).where(User.id == owner_id))
        return team_id == actor.team_id
    return False


def check_owner(
    session: Session,
    actor: Actor,
    scope: Scope,
    owner_id: int | None,
    *,
    refusal: str,
    allow_unassigned: bool = False,
) -> None:
    """Refuse an owner who is no active user of the workspace (422) or is outside ``scope``
    (403 with ``refusal``). No owner (``None``) passes when ``allow_unassigned``, otherwise
    only within a team scope, like any unassigned record."""
    if owner_id is None and allow_unassigned:
        return
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or owner.workspace_id != actor.workspace_id or not owner.is_active:
            raise InvalidInput(
                "owner_id: no such active user",
                [ErrorDetail("no such active user", field="owner_id")],
            )
    if not owner_in_scope(session, actor, scope, owner_id):
        raise Forbidden(refusal, [ErrorDetail("outside your scope", field="owner_id")])
