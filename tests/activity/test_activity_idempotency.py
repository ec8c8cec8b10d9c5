"""external_id makes creation idempotent: a redelivered event is stored once (RELIABILITY 71)."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from tests.activity.conftest import activity_rows
from voronka.web.app import create_app

CALL = {
    "kind": "call",
    "direction": "inbound",
    "call_status": "missed",
    "from_number": "+7 999 123-45-67",
    "queued_at": "2026-11-30T10:00:00Z",
    "ended_at": "2026-11-30T10:00:30Z",
    "external_id": "pbx-2026-000042",
}


def test_same_external_id_twice_yields_one_row_and_changes_nothing(people, engine):
    api = people.http("M1")
    first = api.post("/api/v1/activities", json={**CALL, "client_id": people.clients["C1"]})
    assert first.status_code == 201
    stored = activity_rows(engine)
    again = api.post(
        "/api/v1/activities",
        json={
            **CALL,
            "client_id": people.clients["C1"],
            "call_status": "busy",
            "subject": "changed",
        },
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert activity_rows(engine) == stored
    assert len(stored) == 1


def test_external_ids_are_unique_per_kind(people):
    api = people.http("M1")
    call = api.post("/api/v1/activities", json={**CALL, "client_id": people.clients["C1"]})
    email = api.post(
        "/api/v1/activities",
        json={
            "kind": "email",
            "client_id": people.clients["C1"],
            "external_id": CALL["external_id"],
        },
    )
    assert (call.status_code, email.status_code) == (201, 201)
    assert call.json()["id"] != email.json()["id"]


def test_external_id_of_a_record_out_of_scope_is_a_conflict_without_its_data(people, engine):
    people.http("M2").post(
        "/api/v1/activities",
        json={**CALL, "client_id": people.clients["C2"], "subject": "C2 secret"},
    )
    stored = activity_rows(engine)
    response = people.http("M1").post(
        "/api/v1/activities", json={**CALL, "client_id": people.clients["C1"]}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "external_id_taken"
    assert response.json()["error"]["details"] == [
        {"field": "external_id", "message": "already used"}
    ]
    assert "secret" not in response.text
    assert activity_rows(engine) == stored


def test_external_id_of_a_deleted_activity_stays_taken(people, engine):
    api = people.http("M1")
    created = api.post("/api/v1/activities", json={**CALL, "client_id": people.clients["C1"]})
    deleted = api.delete(
        f"/api/v1/activities/{created.json()['id']}", headers={"If-Match": created.headers["etag"]}
    )
    assert deleted.status_code == 204
    again = api.post("/api/v1/activities", json={**CALL, "client_id": people.clients["C1"]})
    assert again.status_code == 409
    assert len(activity_rows(engine)) == 1


def test_concurrent_redeliveries_store_one_row(people, engine):
    token = people.http("M1").headers["Authorization"]
    payload = {**CALL, "client_id": people.clients["C1"]}
    clients = [TestClient(create_app(engine), headers={"Authorization": token}) for _ in range(6)]
    for api in clients:
        # FastAPI builds its routes lazily on the first request, and not thread-safely: warm
        # every app up here with a request that stores nothing (422).
        assert api.post("/api/v1/activities", json={}).status_code == 422
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def deliver(api: TestClient) -> None:
        start.wait()
        statuses.append(api.post("/api/v1/activities", json=payload).status_code)

    threads = [threading.Thread(target=deliver, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for api in clients:
        api.close()
    assert sorted(statuses) == [200, 200, 200, 200, 200, 201]
    assert len(activity_rows(engine)) == 1
