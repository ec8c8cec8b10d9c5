"""Each activity kind over HTTP: created, read back, phones normalised, durations derived."""

from __future__ import annotations

import pytest

CLIENT_FIELDS = {"subject": "Subject", "body": "Body text"}


def test_call_is_stored_with_e164_numbers_and_derived_durations(people):
    api = people.http("M1")
    response = api.post(
        "/api/v1/activities",
        json={
            "kind": "call",
            "client_id": people.clients["C1"],
            "direction": "inbound",
            "call_status": "answered",
            "from_number": "8 (999) 123-45-67",
            "to_number": "+7 495 000-00-00",
            "tracking_number": "７９９９０００００１０",
            "queued_at": "2026-11-30T10:00:00+03:00",
            "answered_at": "2026-11-30T10:00:25+03:00",
            "ended_at": "2026-11-30T10:05:25+03:00",
            "recording_url": "https://records.example.ru/r/1.mp3",
        },
    )
    assert response.status_code == 201, response.text
    call = response.json()
    assert response.headers["etag"] == f'"{call["id"]}-1"'
    read = api.get(f"/api/v1/activities/{call['id']}").json()
    assert read == call
    assert (call["from_number"], call["to_number"], call["tracking_number"]) == (
        "+79991234567",
        "+74950000000",
        "+79990000010",
    )
    # 10:00:00 → 10:00:25 is 25 s of waiting; 10:00:25 → 10:05:25 is 300 s of talk.
    assert (call["wait_seconds"], call["talk_seconds"]) == (25, 300)
    assert call["queued_at"] == "2026-11-30T07:00:00Z"
    assert call["occurred_at"] == "2026-11-30T07:00:00Z"  # defaults to when it rang
    assert call["owner_id"] == people.users["M1"]
    assert call["overdue"] is None


def test_missed_call_waits_until_hang_up_and_talks_zero(people):
    api = people.http("M1")
    call = api.post(
        "/api/v1/activities",
        json={
            "kind": "call",
            "client_id": people.clients["C1"],
            "direction": "inbound",
            "call_status": "missed",
            "queued_at": "2026-11-30T10:00:00Z",
            "ended_at": "2026-11-30T10:00:40Z",
        },
    ).json()
    assert (call["wait_seconds"], call["talk_seconds"], call["answered_at"]) == (40, 0, None)


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("email", {"direction": "outbound"}),
        ("message", {"direction": "inbound"}),
        ("meeting", {}),
        ("note", {}),
    ],
)
def test_plain_kinds_round_trip(people, kind, extra):
    api = people.http("M1")
    payload = {
        "kind": kind,
        "client_id": people.clients["C1"],
        "occurred_at": "2026-11-30T12:00:00+00:00",
        **CLIENT_FIELDS,
        **extra,
    }
    response = api.post("/api/v1/activities", json=payload)
    assert response.status_code == 201, response.text
    read = api.get(f"/api/v1/activities/{response.json()['id']}").json()
    assert {k: read[k] for k in payload} == {**payload, "occurred_at": "2026-11-30T12:00:00Z"}
    assert read["direction"] == extra.get("direction")
    assert read["call_status"] is None and read["due_at"] is None


def test_task_without_client_belongs_to_its_owner(people, frozen_now):
    api = people.http("M1")
    response = api.post(
        "/api/v1/activities",
        json={
            "kind": "task",
            "subject": "Prepare the offer",
            "due_at": "2026-12-02T10:00:00Z",
            "remind_at": "2026-12-02T09:00:00Z",
        },
    )
    assert response.status_code == 201, response.text
    task = response.json()
    assert (task["client_id"], task["owner_id"]) == (None, people.users["M1"])
    assert (task["due_at"], task["remind_at"], task["completed_at"]) == (
        "2026-12-02T10:00:00Z",
        "2026-12-02T09:00:00Z",
        None,
    )
    assert task["occurred_at"] == "2026-12-01T09:00:00Z"  # created now
    assert task["overdue"] is False


def test_deal_must_belong_to_the_same_client(people, make_deal):
    api = people.http("H")
    deal_c1, deal_c2 = make_deal(people.clients["C1"]), make_deal(people.clients["C2"])
    linked = api.post(
        "/api/v1/activities",
        json={"kind": "note", "client_id": people.clients["C1"], "deal_id": deal_c1, "body": "ok"},
    )
    assert linked.status_code == 201 and linked.json()["deal_id"] == deal_c1
    for payload in (
        {"client_id": people.clients["C1"], "deal_id": deal_c2},
        {"deal_id": deal_c1},
        {"client_id": people.clients["C1"], "deal_id": 999999},
    ):
        response = api.post("/api/v1/activities", json={"kind": "note", **payload})
        assert response.status_code == 422, payload
        assert [d["field"] for d in response.json()["error"]["details"]] == ["deal_id"]
    listed = api.get("/api/v1/activities", params={"deal_id": deal_c1}).json()
    assert [a["id"] for a in listed["items"]] == [linked.json()["id"]]


def test_xss_payloads_are_stored_verbatim_and_returned_as_json_text(people):
    api = people.http("M1")
    payloads = [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "</title>",
        "{{7*7}}",
    ]
    for text in payloads:
        created = api.post(
            "/api/v1/activities",
            json={"kind": "note", "client_id": people.clients["C1"], "subject": text, "body": text},
        )
        assert created.status_code == 201
        read = api.get(f"/api/v1/activities/{created.json()['id']}")
        assert read.headers["content-type"] == "application/json"
        assert (read.json()["subject"], read.json()["body"]) == (text, text)
    found = api.get("/api/v1/activities", params={"q": "<SCRIPT>"}).json()
    assert [a["subject"] for a in found["items"]] == ["<script>alert(1)</script>"]
