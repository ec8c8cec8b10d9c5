"""Support tickets over HTTP: lifecycle, filters and sorting, scope, optimistic concurrency."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.conftest import rows_of
from voronka import clock
from voronka.support.models import Ticket


def open_ticket(api, client_id, **fields):
    response = api.post(
        "/api/v1/tickets", json={"client_id": client_id, "subject": "Help", **fields}
    )
    assert response.status_code == 201, response.text
    return response


def test_ticket_is_created_with_defaults_and_read_back(people, frozen_now):
    api = people.http("M1")
    created = open_ticket(api, people.clients["C1"], body="Order is late")
    body = created.json()
    assert created.headers["etag"] == f'"{body["id"]}-1"'
    assert {
        k: body[k]
        for k in (
            "client_id",
            "owner_id",
            "status",
            "priority",
            "resolved_at",
            "subject",
            "body",
            "order_id",
        )
    } == {
        "client_id": people.clients["C1"],
        "owner_id": people.users["M1"],
        "status": "open",
        "priority": "normal",
        "resolved_at": None,
        "subject": "Help",
        "body": "Order is late",
        "order_id": None,
    }
    assert api.get(f"/api/v1/tickets/{body['id']}").json() == body


def test_resolving_stamps_resolved_at_and_reopening_clears_it(people, frozen_now):
    api = people.http("M1")
    created = open_ticket(api, people.clients["C1"])
    url, etag = f"/api/v1/tickets/{created.json()['id']}", created.headers["etag"]

    def change(status):
        nonlocal etag
        response = api.patch(url, json={"status": status}, headers={"If-Match": etag})
        assert response.status_code == 200, response.text
        etag = response.headers["etag"]
        return response.json()["resolved_at"]

    assert change("pending") is None
    assert change("resolved") == "2026-12-01T09:00:00Z"
    clock.freeze(frozen_now + timedelta(hours=1))
    assert change("closed") == "2026-12-01T09:00:00Z"  # closing keeps when it was resolved
    assert change("open") is None
    assert change("resolved") == "2026-12-01T10:00:00Z"
    closed_at_once = open_ticket(api, people.clients["C1"], status="closed").json()
    assert closed_at_once["resolved_at"] == "2026-12-01T10:00:00Z"


def test_order_must_belong_to_the_ticket_client(people, engine, make_order):
    api = people.http("M1")
    own, foreign = make_order(people.clients["C1"]), make_order(people.clients["C2"])
    assert open_ticket(api, people.clients["C1"], order_id=own).json()["order_id"] == own
    before = rows_of(engine, Ticket)
    for order_id in (foreign, 999999):
        response = api.post(
            "/api/v1/tickets",
            json={"client_id": people.clients["C1"], "subject": "x", "order_id": order_id},
        )
        assert response.status_code == 422
        assert [d["field"] for d in response.json()["error"]["details"]] == ["order_id"]
    assert rows_of(engine, Ticket) == before


def test_bad_ticket_input_names_the_field(people, engine):
    api = people.http("M1")
    cases = [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"status": "done"}, "status"),
        ({"priority": "asap"}, "priority"),
        ({"resolved_at": "2026-12-01T00:00:00Z"}, "resolved_at"),
        ({"version": 3}, "version"),
        ({"body": "NUL \x00 inside"}, "body"),
        ({"owner_id": 999999}, "owner_id"),
    ]
    for change, field in cases:
        response = api.post(
            "/api/v1/tickets", json={"client_id": people.clients["C1"], "subject": "Help", **change}
        )
        assert response.status_code == 422, change
        assert [d["field"] for d in response.json()["error"]["details"]] == [field], change
    created = open_ticket(api, people.clients["C1"])
    for change in ({"subject": None}, {"status": None}, {"client_id": people.clients["C2"]}):
        response = api.patch(
            f"/api/v1/tickets/{created.json()['id']}",
            json=change,
            headers={"If-Match": created.headers["etag"]},
        )
        assert response.status_code == 422, change
    assert [t["subject"] for t in rows_of(engine, Ticket)] == ["Help"]


def test_filters_search_and_priority_sorting(people, frozen_now):
    api = people.http("H")
    ids = {}
    for name, client, priority, status in (
        ("Ёлка не доставлена", "C1", "low", "open"),
        ("100% refund", "C1", "urgent", "resolved"),
        ("Invoice copy", "C2", "high", "open"),
        ("Wrong size", "C2", "normal", "pending"),
    ):
        clock.freeze(clock.now() + timedelta(minutes=1))
        ids[name] = open_ticket(
            api, people.clients[client], subject=name, priority=priority, status=status
        ).json()["id"]

    def subjects(**params):
        return [t["subject"] for t in api.get("/api/v1/tickets", params=params).json()["items"]]

    assert subjects(sort="priority") == [
        "Ёлка не доставлена",
        "Wrong size",
        "Invoice copy",
        "100% refund",
    ]
    assert subjects(sort="-priority") == [
        "100% refund",
        "Invoice copy",
        "Wrong size",
        "Ёлка не доставлена",
    ]
    assert subjects(status="open", sort="id") == ["Ёлка не доставлена", "Invoice copy"]
    assert subjects(client_id=people.clients["C2"], sort="id") == ["Invoice copy", "Wrong size"]
    assert subjects(q="ЁЛКА") == ["Ёлка не доставлена"]
    assert subjects(q="0%") == ["100% refund"]
    assert subjects(
        created_from="2026-12-01T09:02:00Z", created_to="2026-12-01T09:04:00Z", sort="id"
    ) == ["100% refund", "Invoice copy"]
    assert subjects() == ["Wrong size", "Invoice copy", "100% refund", "Ёлка не доставлена"]
    assert api.get("/api/v1/tickets", params={"sort": "subject"}).status_code == 400
    naive = api.get("/api/v1/tickets", params={"created_from": "2026-12-01T09:02:00"})
    assert naive.status_code == 422


def seed(people) -> dict[str, int]:
    return {
        label: open_ticket(people.http(who), people.clients[label], subject=label).json()["id"]
        for label, who in (("C1", "M1"), ("C2", "M2"), ("C3", "M3"))
    }


@pytest.mark.parametrize(
    ("who", "visible"),
    [("M1", ["C1"]), ("H", ["C1", "C2"]), ("H2", ["C3"]), ("X", ["C1", "C2", "C3"])],
)
def test_each_role_sees_exactly_its_scope(people, who, visible):
    ids = seed(people)
    body = people.http(who).get("/api/v1/tickets", params={"sort": "id"}).json()
    assert [t["id"] for t in body["items"]] == [ids[label] for label in visible]
    assert body["total"] == len(visible)


def test_m1_cannot_touch_tickets_of_other_clients(people, engine):
    ids = seed(people)
    api = people.http("M1")
    before = rows_of(engine, Ticket)
    missing = api.get("/api/v1/tickets/999999").json()["error"]
    for label in ("C2", "C3"):
        url, etag = f"/api/v1/tickets/{ids[label]}", {"If-Match": f'"{ids[label]}-1"'}
        read = api.get(url)
        assert read.status_code == 404
        assert {**read.json()["error"], "request_id": None} == {**missing, "request_id": None}
        assert api.patch(url, json={"status": "closed"}, headers=etag).status_code == 404
        assert api.delete(url, headers=etag).status_code in (403, 404)
    created = api.post("/api/v1/tickets", json={"client_id": people.clients["C2"], "subject": "x"})
    assert created.status_code == 422
    assert [d["field"] for d in created.json()["error"]["details"]] == ["client_id"]
    own = f"/api/v1/tickets/{ids['C1']}"
    assert api.delete(own, headers={"If-Match": f'"{ids["C1"]}-1"'}).status_code == 403
    reassign = api.patch(
        own, json={"owner_id": people.users["M2"]}, headers={"If-Match": f'"{ids["C1"]}-1"'}
    )
    assert reassign.status_code == 403
    assert rows_of(engine, Ticket) == before


def test_head_reassigns_and_deletes_within_the_team(people, engine):
    ids = seed(people)
    api = people.http("H")
    url = f"/api/v1/tickets/{ids['C1']}"
    moved = api.patch(
        url, json={"owner_id": people.users["M2"]}, headers={"If-Match": f'"{ids["C1"]}-1"'}
    )
    assert moved.status_code == 200 and moved.json()["owner_id"] == people.users["M2"]
    outside = api.patch(
        url, json={"owner_id": people.users["M3"]}, headers={"If-Match": moved.headers["etag"]}
    )
    assert outside.status_code == 403
    assert api.delete(url, headers={"If-Match": moved.headers["etag"]}).status_code == 204
    assert api.get(url).status_code == 404
    assert api.get(f"/api/v1/tickets/{ids['C3']}").status_code == 404


@pytest.mark.parametrize("who", ["K", "A"])
def test_marketer_and_analyst_get_403(people, engine, who):
    ids = seed(people)
    before = rows_of(engine, Ticket)
    api, url = people.http(who), f"/api/v1/tickets/{ids['C1']}"
    etag = {"If-Match": f'"{ids["C1"]}-1"'}
    responses = [
        api.get("/api/v1/tickets"),
        api.get(url),
        api.post("/api/v1/tickets", json={"client_id": people.clients["C1"], "subject": "x"}),
        api.patch(url, json={"status": "closed"}, headers=etag),
        api.delete(url, headers=etag),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    assert rows_of(engine, Ticket) == before


def test_writes_need_the_current_etag(people, engine):
    api = people.http("H")
    created = open_ticket(api, people.clients["C1"])
    url, stale = f"/api/v1/tickets/{created.json()['id']}", created.headers["etag"]
    fresh = api.patch(url, json={"priority": "high"}, headers={"If-Match": stale})
    assert fresh.status_code == 200
    before = rows_of(engine, Ticket)
    assert api.patch(url, json={"priority": "low"}).status_code == 428
    assert api.patch(url, json={"priority": "low"}, headers={"If-Match": stale}).status_code == 412
    assert api.delete(url).status_code == 428
    assert api.delete(url, headers={"If-Match": stale}).status_code == 412
    assert rows_of(engine, Ticket) == before


def test_xss_in_tickets_is_stored_verbatim(people):
    api = people.http("M1")
    text = '"><img src=x onerror=alert(1)><script>alert(2)</script>{{7*7}}'
    created = open_ticket(api, people.clients["C1"], subject=text, body=text).json()
    read = api.get(f"/api/v1/tickets/{created['id']}")
    assert read.headers["content-type"] == "application/json"
    assert (read.json()["subject"], read.json()["body"]) == (text, text)
