"""Administration of users and teams: who may, what it revokes, what it records.

RELIABILITY B1 13 (admin functions), 14 (no escalation), 17 (revocation), 20 (last admin)
and 28 (admin actions audited).
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine, select

from tests.access.support import assert_error_shape, database_snapshot
from tests.fixtures import Cast
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work
from voronka.user.models import User
from voronka.web.etag import etag_of

NON_ADMINS = ("H", "M1", "K", "A")
NEW_USER = {
    "email": "new.user@example.ru",
    "name": "New",
    "role": "admin",
    "password": "long enough password",
}


def _user_etag(engine: Engine, user_id: int) -> str:
    with unit_of_work(engine) as session:
        version = session.scalar(select(User.version).where(User.id == user_id))
    assert version is not None
    return etag_of(user_id, version)


def _patch_user(
    people: Cast, engine: Engine, who: str, target: str, changes: dict[str, Any]
) -> httpx2.Response:
    user_id = people.users[target]
    return people.http(who).patch(
        f"/api/v1/users/{user_id}", json=changes, headers={"If-Match": _user_etag(engine, user_id)}
    )


def _admin_calls(people: Cast) -> list[tuple[str, str, dict[str, Any]]]:
    admin, manager = people.users["X"], people.users["M2"]
    return [
        ("POST", "/api/v1/users", NEW_USER),
        ("POST", "/api/v1/users", {**NEW_USER, "role": "sales_manager"}),
        ("PATCH", f"/api/v1/users/{manager}", {"role": "admin"}),
        ("PATCH", f"/api/v1/users/{admin}", {"is_active": False}),
        ("POST", f"/api/v1/users/{admin}/password", {"password": "attacker chosen"}),
        ("POST", f"/api/v1/users/{manager}/password", {"password": "attacker chosen"}),
        ("POST", "/api/v1/teams", {"name": "Shadow team"}),
    ]


@pytest.mark.parametrize("who", NON_ADMINS)
def test_non_admins_cannot_use_admin_functions(people, engine, who):
    api = people.http(who)
    before = database_snapshot(engine)
    for method, path, body in _admin_calls(people):
        response = api.request(method, path, json=body, headers={"If-Match": "*"})
        assert_error_shape(response, 403)
    assert database_snapshot(engine) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/api/v1/users/{X}"), ("DELETE", "/api/v1/users/{X}"), ("DELETE", "/api/v1/teams")],
)
def test_unrouted_methods_on_admin_paths_are_405(people, engine, method, path):
    api = people.http("H")
    before = database_snapshot(engine)
    response = api.request(method, path.format(X=people.users["X"]))
    assert_error_shape(response, 405)
    assert database_snapshot(engine) == before


def test_head_cannot_edit_the_admin_or_promote_self(people, engine):
    api = people.http("H")
    before = database_snapshot(engine)
    for target, changes in (("X", {"name": "Hacked"}), ("H", {"role": "admin"})):
        assert_error_shape(_patch_user(people, engine, "H", target, changes), 403)
    assert api.get(f"/api/v1/users/{people.users['X']}").status_code == 404
    assert database_snapshot(engine) == before


def test_admin_creates_a_user(people):
    response = people.http("X").post("/api/v1/users", json={**NEW_USER, "role": "analyst"})
    assert response.status_code == 201, response.text
    assert (response.json()["email"], response.json()["role"]) == (NEW_USER["email"], "analyst")


def _m1_token(people: Cast) -> str:
    response = people.http("M1").post("/api/v1/auth/tokens", json={"name": "telephony"})
    assert response.status_code == 201, response.text
    return response.json()["secret"]


@pytest.mark.parametrize(
    "changes", [{"role": "analyst"}, {"is_active": False}], ids=["role", "deactivate"]
)
def test_role_change_or_deactivation_revokes_sessions_and_tokens_at_once(people, engine, changes):
    session_client = people.http("M1")
    token = _m1_token(people)
    assert session_client.get("/api/v1/auth/me").status_code == 200
    assert _patch_user(people, engine, "X", "M1", changes).status_code == 200
    assert_error_shape(session_client.get("/api/v1/auth/me"), 401)
    with_token = session_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert_error_shape(with_token, 401)


def test_password_change_by_admin_revokes_sessions(people):
    session_client = people.http("M1")
    response = people.http("X").post(
        f"/api/v1/users/{people.users['M1']}/password", json={"password": "a new long password"}
    )
    assert response.status_code == 204, response.text
    assert_error_shape(session_client.get("/api/v1/auth/me"), 401)


@pytest.mark.parametrize(
    "changes", [{"role": "head_of_sales"}, {"is_active": False}], ids=["demote", "deactivate"]
)
def test_the_last_admin_cannot_be_demoted_or_deactivated(people, engine, changes):
    people.http("X")
    before = database_snapshot(engine)
    error = assert_error_shape(_patch_user(people, engine, "X", "X", changes), 409)
    assert error["code"] == "last_admin"
    assert database_snapshot(engine) == before
    assert people.http("X").get("/api/v1/auth/me").json()["role"] == "admin"


def test_an_admin_can_be_demoted_while_another_remains(people, engine):
    assert people.http("X").post("/api/v1/users", json=NEW_USER).status_code == 201
    response = _patch_user(people, engine, "X", "X", {"role": "head_of_sales"})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "head_of_sales"


def test_role_change_is_audited_with_who_and_what(people, engine):
    assert _patch_user(people, engine, "X", "M1", {"role": "head_of_sales"}).status_code == 200
    with unit_of_work(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "user", AuditEvent.entity_id == people.users["M1"]
            )
        ).all()
    assert [(e.actor_id, e.action, e.changes) for e in events] == [
        (people.users["X"], "update", {"role": ["sales_manager", "head_of_sales"]})
    ]
    assert events[0].request_id is not None


def test_moving_a_user_to_another_team_is_audited(people, engine):
    changes = {"team_id": people.teams["T2"]}
    assert _patch_user(people, engine, "X", "M1", changes).status_code == 200
    with unit_of_work(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "user", AuditEvent.entity_id == people.users["M1"]
            )
        ).all()
    assert [(e.action, e.changes) for e in events] == [
        ("update", {"team_id": [people.teams["T1"], people.teams["T2"]]})
    ]
