"""The audit-log API: who sees which events, filters, no way to change them, breach drill.

RELIABILITY B1 28 (audit entries cannot be edited or deleted) and B5 132 (which clients did
user U read or export between t1 and t2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from tests.access.support import assert_error_shape, assert_same_denial, database_snapshot
from tests.fixtures import Cast
from voronka.access.actor import Actor
from voronka.audit import service as audit
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EVENTS = "/api/v1/audit-events"
SUBJECTS = "/api/v1/audit-events/subjects"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass
class Trail:
    """The cast after a known sequence of audited actions, one per minute from T0."""

    people: Cast
    engine: Engine

    def user(self, who: str) -> int:
        return self.people.users[who]

    def client(self, label: str) -> int:
        return self.people.clients[label]


def _record(engine: Engine, actor: Actor, **event: Any) -> None:
    with unit_of_work(engine) as session:
        audit.record(session, actor, **event)


@pytest.fixture
def trail(people: Cast, engine: Engine, freeze_clock: Callable[[datetime], None]) -> Trail:
    """Seven events: reads by M1, M2, M3; a list, a read and a timeline by H; one by the system."""
    freeze_clock(T0)  # before any sign-in, so that sessions live on the trail's clock
    for who in ("X", "H", "H2", "M1", "M2", "M3", "K", "A"):
        people.http(who)  # sign in now; the sign-ins are set-up, not part of the trail
    with unit_of_work(engine) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.action == "sign_in"))
    clients = people.clients
    steps = [
        ("M1", f"/api/v1/clients/{clients['C1']}"),
        ("M2", f"/api/v1/clients/{clients['C2']}"),
        ("M3", f"/api/v1/clients/{clients['C3']}"),
        ("H", "/api/v1/clients"),
        ("H", f"/api/v1/clients/{clients['C1']}"),
        ("H", f"/api/v1/clients/{clients['C2']}/timeline"),
    ]
    for minute, (who, path) in enumerate(steps, start=1):
        freeze_clock(at(minute))
        assert people.http(who).get(path).status_code == 200
    freeze_clock(at(7))
    _record(engine, Actor.system(), action="update", entity="client", entity_id=clients["C3"])
    freeze_clock(at(30))
    return Trail(people, engine)


def _events(trail: Trail, who: str, **params: Any) -> dict[str, Any]:
    response = trail.people.http(who).get(EVENTS, params={"page_size": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()


def _summary(page: dict[str, Any]) -> list[tuple[int | None, str, int | None]]:
    return [(e["actor_id"], e["action"], e["entity_id"]) for e in page["items"]]


def test_admin_sees_every_event_newest_first(trail):
    page = _events(trail, "X")
    u, c = trail.user, trail.client
    assert _summary(page) == [
        (None, "update", c("C3")),
        (u("H"), "read", c("C2")),
        (u("H"), "read", c("C1")),
        (u("H"), "list", None),
        (u("M3"), "read", c("C3")),
        (u("M2"), "read", c("C2")),
        (u("M1"), "read", c("C1")),
    ]
    assert page["total"] == 7
    assert page["items"][1]["detail"] == {"view": "timeline"}
    assert datetime.fromisoformat(page["items"][0]["occurred_at"]) == at(7)


def test_head_sees_only_events_of_team_members(trail):
    u, c = trail.user, trail.client
    assert _summary(_events(trail, "H")) == [
        (u("H"), "read", c("C2")),
        (u("H"), "read", c("C1")),
        (u("H"), "list", None),
        (u("M2"), "read", c("C2")),
        (u("M1"), "read", c("C1")),
    ]
    assert _summary(_events(trail, "H2")) == [(u("M3"), "read", c("C3"))]


@pytest.mark.parametrize("who", ["M1", "M3", "K", "A"])
def test_other_roles_cannot_read_the_audit_log(trail, who):
    api = trail.people.http(who)
    before = database_snapshot(trail.engine)
    for path, params in [
        (EVENTS, {}),
        (f"{EVENTS}/1", {}),
        (SUBJECTS, {"actor_id": trail.user(who), "from": iso(T0), "to": iso(at(60))}),
    ]:
        assert_error_shape(api.get(path, params=params), 403)
    assert database_snapshot(trail.engine) == before


def _query(trail: Trail, params: dict[str, Any]) -> dict[str, Any]:
    """Turn labels (users, clients, minutes after T0) into query values."""
    convert: dict[str, Callable[[Any], Any]] = {
        "from": lambda minutes: iso(at(minutes)),
        "to": lambda minutes: iso(at(minutes)),
        "actor_id": trail.user,
        "entity_id": trail.client,
    }
    return {key: convert.get(key, str)(value) for key, value in params.items()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor_id": "H"}, [("H", "read", "C2"), ("H", "read", "C1"), ("H", "list", None)]),
        ({"entity": "client", "entity_id": "C1"}, [("H", "read", "C1"), ("M1", "read", "C1")]),
        ({"action": "list"}, [("H", "list", None)]),
        ({"from": 2, "to": 4}, [("M3", "read", "C3"), ("M2", "read", "C2")]),
        ({"from": 6}, [(None, "update", "C3"), ("H", "read", "C2")]),
        ({"entity": "user"}, []),
    ],
    ids=["actor", "entity", "action", "period", "since", "nothing"],
)
def test_filters_narrow_the_events(trail, params, expected):
    page = _events(trail, "X", **_query(trail, params))
    assert _summary(page) == [
        (
            trail.user(who) if who else None,
            action,
            trail.client(target) if target else None,
        )
        for who, action, target in expected
    ]
    assert page["total"] == len(expected)


def test_paging_keeps_the_total(trail):
    last = _events(trail, "X", page_size=3, page=3)
    assert (last["total"], len(last["items"])) == (7, 1)
    assert last["items"][0]["actor_id"] == trail.user("M1")
    first = _events(trail, "X", page_size=3)  # now also shows the look at the last page
    assert (first["total"], len(first["items"])) == (8, 3)
    assert (first["items"][0]["entity"], first["items"][0]["actor_id"]) == (
        "audit_event",
        trail.user("X"),
    )


@pytest.mark.parametrize(("who", "about"), [("H", "M3"), ("H", "X"), ("H2", "M1"), ("H", None)])
def test_filtering_by_an_actor_outside_the_scope_is_refused_without_a_count(trail, who, about):
    actor_id = trail.user(about) if about else 999999
    api = trail.people.http(who)
    before = database_snapshot(trail.engine)
    for path in (EVENTS, SUBJECTS):
        params = {"actor_id": actor_id, "from": iso(T0), "to": iso(at(60))}
        error = assert_error_shape(api.get(path, params=params), 403)
        assert [d["field"] for d in error["details"]] == ["actor_id"]
    assert database_snapshot(trail.engine) == before


def test_an_event_outside_the_scope_looks_like_a_missing_one(trail):
    m3_event = _events(trail, "X", actor_id=trail.user("M3"))["items"][0]["id"]
    api = trail.people.http("H")
    assert_same_denial(api.get(f"{EVENTS}/{m3_event}"), api.get(f"{EVENTS}/999999"))
    assert trail.people.http("X").get(f"{EVENTS}/{m3_event}").json()["id"] == m3_event


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"from": "2026-11-23T09:00:00"}, 422, "from"),
        ({"to": "yesterday"}, 422, "to"),
        ({"from": iso(at(5)), "to": iso(at(5))}, 400, "from"),
        ({"sort": "actor.password_hash"}, 400, "sort"),
    ],
    ids=["naive", "garbage", "empty-period", "bad-sort"],
)
def test_bad_filters_are_refused_naming_the_parameter(trail, params, status, field):
    error = assert_error_shape(trail.people.http("X").get(EVENTS, params=params), status)
    assert [d["field"] for d in error["details"]] == [field]


def test_reading_the_audit_log_is_itself_audited(trail):
    _events(trail, "H", actor_id=trail.user("M1"))
    with unit_of_work(trail.engine) as session:
        view = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (view.actor_id, view.action, view.entity, view.row_count) == (
        trail.user("H"),
        "list",
        "audit_event",
        1,
    )
    assert view.detail == {"actor_id": str(trail.user("M1"))}


WRITE_METHODS = ("PUT", "PATCH", "DELETE", "POST")


@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("path", [EVENTS, f"{EVENTS}/1", SUBJECTS])
def test_audit_events_cannot_be_changed_or_deleted(trail, method, path):
    api = trail.people.http("X")
    before = database_snapshot(trail.engine)
    response = api.request(method, path, json={"action": "nothing happened"})
    error = assert_error_shape(response, 405)
    assert error["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"
    assert database_snapshot(trail.engine) == before


# --- the breach drill -----------------------------------------------------------------------


def _subjects(
    trail: Trail, who: str, about: str, start: float, end: float, **params: Any
) -> dict[str, Any]:
    response = trail.people.http(who).get(
        SUBJECTS,
        params={
            "actor_id": trail.user(about),
            "from": iso(at(start)),
            "to": iso(at(end)),
            **params,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_breach_drill_lists_the_clients_a_user_read_or_exported(trail, freeze_clock):
    head = trail.people.actor("H")
    for minute, event in (
        (8, {"entity_id": trail.client("C2")}),
        (9, {"row_count": 2, "detail": {"filter": {"tag": "vip"}}}),
    ):
        freeze_clock(at(minute))
        _record(trail.engine, head, action="export", entity="client", **event)
    report = _subjects(trail, "X", "H", 0, 60)
    assert [
        (
            s["client_id"],
            s["actions"],
            s["events"],
            datetime.fromisoformat(s["first_at"]),
            datetime.fromisoformat(s["last_at"]),
        )
        for s in report["items"]
    ] == [
        (trail.client("C1"), ["read"], 1, at(5), at(5)),
        (trail.client("C2"), ["export", "read"], 2, at(6), at(8)),
    ]
    assert (report["total"], report["actor_id"]) == (2, trail.user("H"))
    assert report["bulk"] == {"events": 2, "rows": 2 + 2}
    assert datetime.fromisoformat(report["from"]) == T0
    assert datetime.fromisoformat(report["to"]) == at(60)


def test_breach_drill_respects_the_period_bounds(trail):
    assert [s["client_id"] for s in _subjects(trail, "X", "H", 5.5, 60)["items"]] == [
        trail.client("C2")
    ]
    until_list = _subjects(trail, "X", "H", 0, 5)
    assert (until_list["items"], until_list["bulk"]["events"]) == ([], 1)
    from_read = _subjects(trail, "X", "H", 5, 6)
    assert [s["client_id"] for s in from_read["items"]] == [trail.client("C1")]


def test_breach_drill_pages_by_client(trail):
    first = _subjects(trail, "X", "H", 0, 60, page_size=1)
    second = _subjects(trail, "X", "H", 0, 60, page_size=1, page=2)
    assert [s["client_id"] for s in first["items"] + second["items"]] == [
        trail.client("C1"),
        trail.client("C2"),
    ]
    assert first["total"] == second["total"] == 2


def test_head_runs_the_drill_for_a_team_member(trail):
    report = _subjects(trail, "H", "M1", 0, 60)
    assert [s["client_id"] for s in report["items"]] == [trail.client("C1")]
    assert report["bulk"] == {"events": 0, "rows": 0}


def test_breach_drill_needs_a_user_and_a_period(trail):
    api = trail.people.http("X")
    error = assert_error_shape(api.get(SUBJECTS, params={"actor_id": trail.user("H")}), 422)
    assert {d["field"] for d in error["details"]} == {"from", "to"}
