"""Record scope over HTTP: activities follow their client; internal ones follow their owner.

Denied paths answer like a missing id (404) for records, 403 for functions, and change nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.activity.conftest import activity_rows
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work

TASK_DUE = "2026-12-05T10:00:00Z"


def seed(people) -> dict[str, int]:
    """One note per client (by its owner) and one internal task for M1, M2 and M3."""
    ids = {}
    for label, who in (("C1", "M1"), ("C2", "M2"), ("C3", "M3")):
        response = people.http(who).post(
            "/api/v1/activities",
            json={"kind": "note", "client_id": people.clients[label], "body": f"about {label}"},
        )
        ids[label] = response.json()["id"]
    for who in ("M1", "M2", "M3"):
        response = people.http(who).post(
            "/api/v1/activities",
            json={"kind": "task", "subject": f"{who} to do", "due_at": TASK_DUE},
        )
        ids[f"task-{who}"] = response.json()["id"]
    return ids


def listed_ids(api, **params) -> tuple[list[int], int]:
    body = api.get("/api/v1/activities", params={"sort": "id", **params}).json()
    return [a["id"] for a in body["items"]], body["total"]


def change_events(engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "activity", AuditEvent.action.in_(("update", "delete")))
        )


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("M1", ["C1", "task-M1"]),
        ("M2", ["C2", "task-M2"]),
        ("H", ["C1", "C2", "task-M1", "task-M2"]),
        ("H2", ["C3", "task-M3"]),
        ("X", ["C1", "C2", "C3", "task-M1", "task-M2", "task-M3"]),
    ],
)
def test_each_role_lists_exactly_its_scope(people, who, visible):
    ids = seed(people)
    expected = sorted(ids[name] for name in visible)
    assert listed_ids(people.http(who)) == (expected, len(expected))
    assert listed_ids(people.http(who), page_size=1, page=2)[1] == len(expected)


def test_m1_cannot_read_other_clients_activities_nor_tell_them_from_missing(people):
    ids = seed(people)
    api = people.http("M1")
    missing = api.get("/api/v1/activities/999999")
    for name in ("C2", "C3", "task-M2", "task-M3"):
        response = api.get(f"/api/v1/activities/{ids[name]}")
        assert response.status_code == 404
        assert "etag" not in response.headers
        assert {**response.json()["error"], "request_id": None} == {
            **missing.json()["error"],
            "request_id": None,
        }
    assert listed_ids(api, client_id=people.clients["C2"]) == ([], 0)


def test_m1_cannot_change_delete_or_complete_out_of_scope_activities(people, engine):
    ids = seed(people)
    api = people.http("M1")
    before, events = activity_rows(engine), change_events(engine)
    for name in ("C2", "C3", "task-M2"):
        url = f"/api/v1/activities/{ids[name]}"
        etag = {"If-Match": f'"{ids[name]}-1"'}
        assert api.patch(url, json={"body": "hacked"}, headers=etag).status_code == 404
        assert api.delete(url, headers=etag).status_code == 404
        assert api.post(f"{url}/complete", headers=etag).status_code == 404
    assert activity_rows(engine) == before
    assert change_events(engine) == events


def test_m1_cannot_attach_activities_to_other_clients(people, engine):
    ids = seed(people)
    api = people.http("M1")
    before = activity_rows(engine)
    created = api.post(
        "/api/v1/activities", json={"kind": "note", "client_id": people.clients["C2"], "body": "x"}
    )
    assert created.status_code == 422
    assert [d["field"] for d in created.json()["error"]["details"]] == ["client_id"]
    etag = api.get(f"/api/v1/activities/{ids['C1']}").headers["etag"]
    moved = api.patch(
        f"/api/v1/activities/{ids['C1']}",
        json={"client_id": people.clients["C3"]},
        headers={"If-Match": etag},
    )
    assert moved.status_code == 422
    assert activity_rows(engine) == before


def test_owners_are_given_within_scope_only(people, engine):
    ids = seed(people)
    before = activity_rows(engine)
    m1 = people.http("M1")
    given = m1.post(
        "/api/v1/activities",
        json={"kind": "note", "client_id": people.clients["C1"], "owner_id": people.users["M2"]},
    )
    assert given.status_code == 403
    etag = m1.get(f"/api/v1/activities/{ids['C1']}").headers["etag"]
    reassigned = m1.patch(
        f"/api/v1/activities/{ids['C1']}",
        json={"owner_id": people.users["M2"]},
        headers={"If-Match": etag},
    )
    assert reassigned.status_code == 403
    assert m1.get("/api/v1/activities", params={"owner_id": people.users["M2"]}).status_code == 403
    assert activity_rows(engine) == before
    h = people.http("H")
    to_team = h.patch(
        f"/api/v1/activities/{ids['C1']}",
        json={"owner_id": people.users["M2"]},
        headers={"If-Match": etag},
    )
    assert to_team.status_code == 200 and to_team.json()["owner_id"] == people.users["M2"]
    other_team = h.post(
        "/api/v1/activities",
        json={"kind": "note", "client_id": people.clients["C1"], "owner_id": people.users["M3"]},
    )
    assert other_team.status_code == 403


@pytest.mark.parametrize("who", ["K", "A"])
def test_marketer_and_analyst_get_403_everywhere(people, engine, who):
    ids = seed(people)
    before = activity_rows(engine)
    api = people.http(who)
    url = f"/api/v1/activities/{ids['C1']}"
    etag = {"If-Match": f'"{ids["C1"]}-1"'}
    responses = [
        api.get("/api/v1/activities"),
        api.get(url),
        api.post("/api/v1/activities", json={"kind": "note", "client_id": people.clients["C1"]}),
        api.patch(url, json={"body": "x"}, headers=etag),
        api.delete(url, headers=etag),
        api.post(f"/api/v1/activities/{ids['task-M1']}/complete", headers=etag),
        api.get("/api/v1/tasks/mine"),
        api.get("/api/v1/tasks/reminders/due"),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    assert all(r.json()["error"]["code"] == "forbidden" for r in responses)
    assert activity_rows(engine) == before


def test_anonymous_gets_401(people, anonymous):
    assert anonymous.get("/api/v1/activities").status_code == 401
    assert anonymous.get("/api/v1/tasks/mine").status_code == 401
    assert anonymous.post("/api/v1/activities", json={"kind": "note"}).status_code == 401


@pytest.mark.parametrize("method", ["patch", "delete", "complete"])
def test_writes_need_the_current_etag(people, engine, method):
    ids = seed(people)
    api = people.http("M1")
    url = f"/api/v1/activities/{ids['task-M1']}"
    stale = api.get(url).headers["etag"]
    changed = api.patch(url, json={"subject": "First"}, headers={"If-Match": stale})
    assert changed.status_code == 200 and changed.headers["etag"] != stale
    before = activity_rows(engine)

    def send(headers):
        if method == "patch":
            return api.patch(url, json={"subject": "Second"}, headers=headers)
        if method == "delete":
            return api.delete(url, headers=headers)
        return api.post(f"{url}/complete", headers=headers)

    missing, old = send({}), send({"If-Match": stale})
    assert (missing.status_code, old.status_code) == (428, 412)
    assert missing.json()["error"]["code"] == "precondition_required"
    assert old.json()["error"]["code"] == "precondition_failed"
    assert activity_rows(engine) == before
    assert send({"If-Match": changed.headers["etag"]}).status_code in (200, 204)
