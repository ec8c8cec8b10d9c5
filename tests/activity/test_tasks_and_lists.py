"""Tasks (complete, my list, reminders), list filters and search, and updates of calls.

The clock is pinned to 2026-12-01 09:00 UTC (``frozen_now``).
"""

from __future__ import annotations

from datetime import timedelta

from voronka import clock


def task(api, subject, due_at, remind_at=None, **extra):
    payload = {"kind": "task", "subject": subject, "due_at": due_at, **extra}
    if remind_at is not None:
        payload["remind_at"] = remind_at
    response = api.post("/api/v1/activities", json=payload)
    assert response.status_code == 201, response.text
    return response.json()


def test_complete_marks_the_task_done_once(people, frozen_now):
    api = people.http("M1")
    created = task(api, "Call back", "2026-12-01T08:00:00Z")
    assert created["overdue"] is True
    url = f"/api/v1/activities/{created['id']}"
    etag = api.get(url).headers["etag"]
    done = api.post(f"{url}/complete", headers={"If-Match": etag})
    assert done.status_code == 200, done.text
    assert (done.json()["completed_at"], done.json()["overdue"]) == ("2026-12-01T09:00:00Z", False)
    again = api.post(f"{url}/complete", headers={"If-Match": done.headers["etag"]})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "transition_not_allowed"
    note = api.post("/api/v1/activities", json={"kind": "note", "client_id": people.clients["C1"]})
    not_task = api.post(
        f"/api/v1/activities/{note.json()['id']}/complete",
        headers={"If-Match": note.headers["etag"]},
    )
    assert not_task.status_code == 409


def test_my_tasks_are_open_ones_soonest_first_with_overdue_flags(people, frozen_now):
    m1 = people.http("M1")
    later = task(m1, "later", "2026-12-03T10:00:00Z")
    late = task(m1, "late", "2026-11-30T10:00:00Z")
    on_client = task(m1, "on C1", "2026-12-01T09:30:00Z", client_id=people.clients["C1"])
    done = task(m1, "done", "2026-11-29T10:00:00Z")
    m1.post(f"/api/v1/activities/{done['id']}/complete", headers={"If-Match": f'"{done["id"]}-1"'})
    task(people.http("M2"), "not mine", "2026-11-29T10:00:00Z")
    task(people.http("H"), "H gives M2 a task", "2026-12-02T10:00:00Z", owner_id=people.users["M2"])
    mine = m1.get("/api/v1/tasks/mine").json()
    assert [(t["subject"], t["overdue"]) for t in mine["items"]] == [
        ("late", True),
        ("on C1", False),
        ("later", False),
    ]
    assert [t["id"] for t in mine["items"]] == [late["id"], on_client["id"], later["id"]]
    assert mine["total"] == 3


def test_due_reminders_are_open_tasks_whose_time_has_come(people, frozen_now):
    m1 = people.http("M1")
    now = "2026-12-01T09:00:00Z"
    due = task(m1, "remind now", "2026-12-01T12:00:00Z", remind_at=now)
    earlier = task(m1, "remind earlier", "2026-12-02T12:00:00Z", remind_at="2026-11-30T12:00:00Z")
    task(m1, "remind later", "2026-12-02T12:00:00Z", remind_at="2026-12-01T09:00:01Z")
    task(m1, "no reminder", "2026-11-20T12:00:00Z")
    finished = task(m1, "finished", "2026-12-02T12:00:00Z", remind_at="2026-11-30T12:00:00Z")
    m1.post(
        f"/api/v1/activities/{finished['id']}/complete",
        headers={"If-Match": f'"{finished["id"]}-1"'},
    )
    task(people.http("M3"), "other team", "2026-12-02T12:00:00Z", remind_at="2026-11-30T12:00:00Z")
    reminders = m1.get("/api/v1/tasks/reminders/due").json()
    assert [t["id"] for t in reminders["items"]] == [earlier["id"], due["id"]]
    everyone = people.http("X").get("/api/v1/tasks/reminders/due").json()
    assert everyone["total"] == 3
    clock.freeze(clock.now() + timedelta(seconds=1))
    assert m1.get("/api/v1/tasks/reminders/due").json()["total"] == 3


def test_task_filters_open_and_overdue(people, frozen_now):
    api = people.http("M1")
    late = task(api, "late", "2026-11-30T10:00:00Z")
    soon = task(api, "soon", "2026-12-02T10:00:00Z")
    done = task(api, "done", "2026-11-29T10:00:00Z")
    api.post(f"/api/v1/activities/{done['id']}/complete", headers={"If-Match": f'"{done["id"]}-1"'})
    api.post("/api/v1/activities", json={"kind": "note", "client_id": people.clients["C1"]})

    def ids(**params):
        return [
            a["id"]
            for a in api.get("/api/v1/activities", params={"sort": "id", **params}).json()["items"]
        ]

    assert ids(open="true") == [late["id"], soon["id"]]
    assert ids(open="false") == [done["id"]]
    assert ids(overdue="true") == [late["id"]]
    assert ids(overdue="false") == [soon["id"], done["id"]]
    assert ids(kind="task", open="true", overdue="false") == [soon["id"]]


def test_call_filters_kind_status_client_and_time(people):
    api = people.http("H")

    def call(client, status, at):
        answered = {"answered_at": at} if status == "answered" else {}
        return api.post(
            "/api/v1/activities",
            json={
                "kind": "call",
                "client_id": people.clients[client],
                "direction": "inbound",
                "call_status": status,
                "queued_at": at,
                **answered,
            },
        ).json()["id"]

    a = call("C1", "answered", "2026-11-01T00:00:00Z")
    b = call("C1", "missed", "2026-11-15T12:00:00Z")
    c = call("C2", "missed", "2026-11-30T23:59:59Z")

    def ids(**params):
        body = api.get("/api/v1/activities", params={"sort": "occurred_at", **params}).json()
        return [x["id"] for x in body["items"]]

    assert ids(kind="call") == [a, b, c]
    assert ids(status="missed") == [b, c]
    assert ids(client_id=people.clients["C1"]) == [a, b]
    assert ids(occurred_from="2026-11-01T03:00:00+03:00", occurred_to="2026-11-30T23:59:59Z") == [
        a,
        b,
    ]
    assert ids(sort="-occurred_at") == [c, b, a]
    naive = api.get("/api/v1/activities", params={"occurred_from": "2026-11-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["error"]["details"][0]["field"] == "occurred_from"
    bad_sort = api.get("/api/v1/activities", params={"sort": "body;--"})
    assert bad_sort.status_code == 400


def test_search_ignores_case_in_cyrillic_and_treats_wildcards_literally(people):
    api = people.http("M1")
    for subject in (
        "Ёлка для офиса",
        "ёЛКА в подарок",
        "100% предоплата",
        "1000 рублей",
        "a_b",
        "axb",
        r"back\slash",
    ):
        api.post(
            "/api/v1/activities",
            json={"kind": "note", "client_id": people.clients["C1"], "subject": subject},
        )

    def found(q):
        body = api.get("/api/v1/activities", params={"q": q, "sort": "id"}).json()
        return [a["subject"] for a in body["items"]]

    assert found("ЁЛКА") == ["Ёлка для офиса", "ёЛКА в подарок"]
    assert found("100%") == ["100% предоплата"]
    assert found("a_b") == ["a_b"]
    assert found("\\s") == [r"back\slash"]
    assert found("'; DROP TABLE activity; --") == []
    nul = api.get("/api/v1/activities", params={"q": "a\x00"})
    assert (nul.status_code, nul.json()["error"]["details"][0]["field"]) == (422, "q")


def test_changing_call_times_rederives_durations_and_normalises_phones(people):
    api = people.http("M1")
    created = api.post(
        "/api/v1/activities",
        json={
            "kind": "call",
            "client_id": people.clients["C1"],
            "direction": "outbound",
            "call_status": "answered",
            "queued_at": "2026-11-30T10:00:00Z",
            "answered_at": "2026-11-30T10:00:05Z",
            "ended_at": "2026-11-30T10:01:05Z",
        },
    )
    assert (created.json()["wait_seconds"], created.json()["talk_seconds"]) == (5, 60)
    url = f"/api/v1/activities/{created.json()['id']}"
    changed = api.patch(
        url,
        json={"ended_at": "2026-11-30T10:02:05Z", "to_number": "8 999 1234567"},
        headers={"If-Match": created.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["wait_seconds"], body["talk_seconds"], body["to_number"]) == (
        5,
        120,
        "+79991234567",
    )
    assert changed.headers["etag"] == f'"{body["id"]}-2"'
    broken = api.patch(
        url,
        json={"answered_at": "2026-11-30T10:03:00Z"},
        headers={"If-Match": changed.headers["etag"]},
    )
    assert broken.status_code == 422
    assert [d["field"] for d in broken.json()["error"]["details"]] == ["ended_at"]
    null_time = api.patch(
        url, json={"occurred_at": None}, headers={"If-Match": changed.headers["etag"]}
    )
    assert null_time.status_code == 422
    assert api.get(url).json() == {**body, "overdue": None}
