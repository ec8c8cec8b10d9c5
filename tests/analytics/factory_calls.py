"""Builders the scorecard and calls tests need beyond ``factory.World``: teams, managers with
a role and an active flag, calls with phone numbers, and tasks. Times are Moscow wall-clock
strings, as in ``factory``.
"""

from __future__ import annotations

from tests.analytics.factory import World, at
from voronka.activity.models import Activity, ActivityKind, CallStatus, Direction
from voronka.user.models import Role, Team, User


def team(w: World, name: str) -> int:
    return w.add(Team(workspace_id=1, name=name)).id


def manager(
    w: World,
    name: str,
    team_id: int | None = None,
    role: Role = Role.SALES_MANAGER,
    active: bool = True,
) -> int:
    w.users[name] = w.add(
        User(
            workspace_id=1,
            email=f"{name}@example.test",
            name=name,
            role=role,
            team_id=team_id,
            is_active=active,
        )
    ).id
    return w.users[name]


def call(
    w: World,
    when: str,
    status: CallStatus,
    *,
    inbound: bool = True,
    owner: str | None = None,
    client: str | None = None,
    wait: int | None = 0,
    talk: int | None = 0,
    from_number: str | None = None,
    to_number: str | None = None,
) -> int:
    """A call that rang at ``when``; returns its id."""
    return w.add(
        Activity(
            workspace_id=1,
            kind=ActivityKind.CALL,
            call_status=status,
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            occurred_at=at(when),
            queued_at=at(when),
            wait_seconds=wait,
            talk_seconds=talk,
            from_number=from_number,
            to_number=to_number,
            owner_id=w.users[owner] if owner else None,
            client_id=w.clients[client] if client else None,
        )
    ).id


def task(w: World, owner: str, due: str, created: str, completed: str | None = None) -> int:
    """A task of ``owner`` created at ``created``, due at ``due``, maybe completed."""
    return w.add(
        Activity(
            workspace_id=1,
            kind=ActivityKind.TASK,
            subject="task",
            owner_id=w.users[owner],
            occurred_at=at(created),
            due_at=at(due),
            created_at=at(created),
            updated_at=at(created),
            completed_at=at(completed) if completed else None,
        )
    ).id
