"""Bad activity input: every 422 names its field, and nothing is stored."""

from __future__ import annotations

from tests.activity.conftest import activity_rows

CALL = {
    "kind": "call",
    "direction": "inbound",
    "call_status": "answered",
    "queued_at": "2026-11-30T10:00:00Z",
    "answered_at": "2026-11-30T10:00:10Z",
    "ended_at": "2026-11-30T10:01:10Z",
}


def fields_of(response) -> list[str]:
    return [d["field"] for d in response.json()["error"]["details"]]


CALL_ERRORS = [
    ({"direction": None, "call_status": None}, ["direction", "call_status"]),
    ({"answered_at": None}, ["answered_at"]),
    ({"answered_at": "2026-11-30T09:59:59Z"}, ["answered_at"]),
    ({"ended_at": "2026-11-30T10:00:09Z"}, ["ended_at"]),
    ({"call_status": "missed"}, ["answered_at"]),
    ({"call_status": "busy", "answered_at": None, "talk_seconds": 5}, ["talk_seconds"]),
    (
        {"call_status": "missed", "answered_at": None, "ended_at": "2026-11-30T09:00:00Z"},
        ["ended_at"],
    ),
    ({"wait_seconds": 30}, ["wait_seconds"]),
    ({"talk_seconds": 10}, ["talk_seconds"]),
    ({"wait_seconds": -1}, ["wait_seconds"]),
    ({"from_number": "12"}, ["from_number"]),
    ({"to_number": "not a phone"}, ["to_number"]),
    ({"direction": "sideways"}, ["direction"]),
    ({"call_status": "ringing"}, ["call_status"]),
    ({"due_at": "2026-12-01T10:00:00Z"}, ["due_at"]),
]


def test_call_errors_name_the_field(people, engine):
    api = people.http("M1")
    for change, fields in CALL_ERRORS:
        payload = {**CALL, "client_id": people.clients["C1"], **change}
        response = api.post("/api/v1/activities", json=payload)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["code"] == "invalid_input"
        assert fields_of(response) == fields, change
    assert activity_rows(engine) == []


def test_given_durations_within_a_second_of_the_timestamps_are_kept(people):
    api = people.http("M1")
    # Timestamps give 10.6 s of waiting and 60 s of talk; 10 and 61 are within one second.
    response = api.post(
        "/api/v1/activities",
        json={
            **CALL,
            "client_id": people.clients["C1"],
            "answered_at": "2026-11-30T10:00:10.600Z",
            "ended_at": "2026-11-30T10:01:10.600Z",
            "wait_seconds": 10,
            "talk_seconds": 61,
        },
    )
    assert response.status_code == 201, response.text
    assert (response.json()["wait_seconds"], response.json()["talk_seconds"]) == (10, 61)


BAD_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:audio/mp3;base64,AAAA",
    "http://records.example.ru/1.mp3",
    "vbscript:msgbox(1)",
    "https://",
    "https:/evil",
    "//records.example.ru/1.mp3",
    "https://user:secret@records.example.ru/1.mp3",
    "https://records.example.ru/a b.mp3",
    "https://[::1/x",
]


def test_recording_url_must_be_https(people, engine):
    api = people.http("M1")
    for url in BAD_URLS:
        response = api.post(
            "/api/v1/activities",
            json={**CALL, "client_id": people.clients["C1"], "recording_url": url},
        )
        assert response.status_code == 422, url
        assert fields_of(response) == ["recording_url"], url
    assert activity_rows(engine) == []


def test_https_recording_url_is_kept_as_given(people):
    api = people.http("M1")
    url = "https://records.example.ru/calls/2026/11/30/abc.mp3?sig=x%2By"
    created = api.post(
        "/api/v1/activities", json={**CALL, "client_id": people.clients["C1"], "recording_url": url}
    )
    assert created.status_code == 201
    assert created.json()["recording_url"] == url


def test_naive_call_datetimes_are_refused(people, engine):
    api = people.http("M1")
    for field in ("occurred_at", "queued_at", "answered_at", "ended_at"):
        response = api.post(
            "/api/v1/activities",
            json={**CALL, "client_id": people.clients["C1"], field: "2026-11-30T10:00:10"},
        )
        assert response.status_code == 422, field
        assert fields_of(response) == [field]
        assert response.json()["error"]["details"][0]["message"] == (
            "Input should have timezone info"
        )
    assert activity_rows(engine) == []


TASK_ERRORS = [
    ({"due_at": "2026-12-02T10:00:00"}, ["due_at"]),
    ({"due_at": "2026-12-02T10:00:00Z", "remind_at": "2026-12-02T09:00:00"}, ["remind_at"]),
    ({}, ["due_at"]),
    ({"due_at": "2026-12-02T10:00:00Z", "remind_at": "2026-12-02T10:00:01Z"}, ["remind_at"]),
    ({"due_at": "0001-01-01T00:00:00+03:00"}, ["due_at"]),
    ({"due_at": "2026-12-02T10:00:00Z", "call_status": "missed"}, ["call_status"]),
    ({"due_at": "2026-12-02T10:00:00Z", "completed_at": "2026-12-02T10:00:00Z"}, ["completed_at"]),
]


def test_task_errors_name_the_field(people, engine):
    api = people.http("M1")
    for payload, fields in TASK_ERRORS:
        response = api.post("/api/v1/activities", json={"kind": "task", **payload})
        assert response.status_code == 422, (payload, response.text)
        assert fields_of(response) == fields, payload
    assert activity_rows(engine) == []


FOREIGN_FIELDS = [
    ({"kind": "note", "recording_url": "https://x.example/1"}, ["recording_url"]),
    ({"kind": "meeting", "direction": "inbound"}, ["direction"]),
    ({"kind": "email", "due_at": "2026-12-02T10:00:00Z"}, ["due_at"]),
    ({"kind": "note", "is_deleted": True}, ["is_deleted"]),
    ({"kind": "note", "version": 7}, ["version"]),
    ({"kind": "note", "client_id": 999999}, ["client_id"]),
    ({"kind": "note", "owner_id": 999999}, ["owner_id"]),
    ({"kind": "sms"}, ["kind"]),
    ({"kind": "note", "subject": "x" * 301}, ["subject"]),
    ({"kind": "note", "external_id": ""}, ["external_id"]),
    ({"kind": "note", "body": "NUL \x00 inside"}, ["body"]),  # PostgreSQL text can't hold it
]


def test_fields_foreign_to_the_kind_or_model_are_refused(people, engine):
    api = people.http("M1")
    for payload, fields in FOREIGN_FIELDS:
        response = api.post(
            "/api/v1/activities", json={"client_id": people.clients["C1"], **payload}
        )
        assert response.status_code == 422, (payload, response.text)
        assert fields_of(response) == fields, payload
    assert activity_rows(engine) == []
