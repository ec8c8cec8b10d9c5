"""Tracking numbers (E.164, unique, lookup) and touchpoints (scope, UTM matching, input)."""

from __future__ import annotations

from tests.order.support import fields_of, snapshot
from voronka.audit.models import AuditEvent
from voronka.campaign.models import Touchpoint, TrackingNumber


def test_tracking_numbers_are_stored_as_e164_and_unique(people, setup, engine):
    api = people.http("K")
    created = api.post(
        "/api/v1/tracking-numbers",
        json={"number": "8 (800) 555-35-35", "campaign_id": setup.campaigns["spring"]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["number"], body["campaign_id"], body["channel_id"], body["kind"]) == (
        "+78005553535",
        setup.campaigns["spring"],
        setup.channels["direct"],
        "static",
    )
    before = snapshot(engine, TrackingNumber, AuditEvent)
    for variant in ("+7 800 555 35 35", "78005553535", "８００５５５３５３５"):
        again = api.post("/api/v1/tracking-numbers", json={"number": variant})
        assert again.status_code == 409, variant
        assert fields_of(again) == ["number"]
    for payload, field in (
        ({"number": "12"}, "number"),
        ({"number": "call me"}, "number"),
        ({"number": "+74950000001", "campaign_id": 999}, "campaign_id"),
        (
            {
                "number": "+74950000001",
                "campaign_id": setup.campaigns["spring"],
                "channel_id": setup.channels["vk"],
            },
            "channel_id",
        ),
        ({"number": "+74950000001", "calls": 5}, "calls"),
    ):
        response = api.post("/api/v1/tracking-numbers", json=payload)
        assert response.status_code == 422, payload
        assert fields_of(response) == [field]
    assert snapshot(engine, TrackingNumber, AuditEvent) == before


def test_lookup_finds_the_number_in_any_format(people, setup):
    people.http("K").post(
        "/api/v1/tracking-numbers",
        json={"number": "+7 495 000-00-01", "campaign_id": setup.campaigns["stories"]},
    )
    api = people.http("M1")
    for variant in ("84950000001", "+7 (495) 000-00-01", " 7 495 0000001 "):
        found = api.get("/api/v1/tracking-numbers/lookup", params={"number": variant})
        assert found.status_code == 200, variant
        assert (found.json()["number"], found.json()["campaign_id"]) == (
            "+74950000001",
            setup.campaigns["stories"],
        )
    missing = api.get("/api/v1/tracking-numbers/lookup", params={"number": "+74950000002"})
    assert missing.status_code == 404
    invalid = api.get("/api/v1/tracking-numbers/lookup", params={"number": "abc"})
    assert (invalid.status_code, fields_of(invalid)) == (422, ["number"])


def test_tracking_numbers_are_written_by_admin_and_marketer_only(people, setup, engine):
    created = people.http("K").post("/api/v1/tracking-numbers", json={"number": "+74950000001"})
    url = f"/api/v1/tracking-numbers/{created.json()['id']}"
    before = snapshot(engine, TrackingNumber, AuditEvent)
    for who in ("H", "M1", "A"):
        api = people.http(who)
        assert (
            api.post("/api/v1/tracking-numbers", json={"number": "+74950000002"}).status_code == 403
        )
        assert (
            api.patch(
                url, json={"is_active": False}, headers={"If-Match": created.headers["etag"]}
            ).status_code
            == 403
        )
        assert api.get(url).status_code == 200
    assert snapshot(engine, TrackingNumber, AuditEvent) == before
    moved = people.http("X").patch(
        url,
        json={"campaign_id": setup.campaigns["brand"]},
        headers={"If-Match": created.headers["etag"]},
    )
    assert (moved.json()["campaign_id"], moved.json()["channel_id"]) == (
        setup.campaigns["brand"],
        setup.channels["direct"],
    )
    listed = (
        people.http("A")
        .get("/api/v1/tracking-numbers", params={"channel_id": setup.channels["direct"]})
        .json()
    )
    assert [n["number"] for n in listed["items"]] == ["+74950000001"]


def _touch(api, **fields):
    body = {"kind": "visit", "occurred_at": "2026-03-01T12:00:00+03:00", **fields}
    return api.post("/api/v1/touchpoints", json=body)


def test_touchpoint_campaign_is_found_from_utm_values(people, setup):
    api = people.http("K")
    spring = _touch(
        api,
        visitor_id="v-1",
        utm_source="yandex",
        utm_medium="cpc",
        utm_campaign="spring",
        pages=4,
        seconds_on_site=95,
    )
    assert spring.status_code == 201, spring.text
    body = spring.json()
    assert (body["campaign_id"], body["channel_id"], body["occurred_at"]) == (
        setup.campaigns["spring"],
        setup.channels["direct"],
        "2026-03-01T09:00:00Z",
    )
    unknown = _touch(api, visitor_id="v-1", utm_source="google", utm_medium="cpc").json()
    assert (unknown["campaign_id"], unknown["channel_id"]) == (None, None)
    other_channel = _touch(
        api,
        visitor_id="v-1",
        utm_source="yandex",
        utm_medium="cpc",
        channel_id=setup.channels["vk"],
    ).json()
    assert (other_channel["campaign_id"], other_channel["channel_id"]) == (
        None,
        setup.channels["vk"],
    )


def test_touchpoints_follow_the_client_scope(people, setup):
    marketer = people.http("K")
    ids = {
        "anonymous": _touch(marketer, visitor_id="v-0").json()["id"],
        "C1": _touch(marketer, visitor_id="v-1", client_id=people.clients["C1"]).json()["id"],
        "C2": _touch(marketer, client_id=people.clients["C2"]).json()["id"],
        "C3": _touch(marketer, kind="call", client_id=people.clients["C3"]).json()["id"],
    }
    expected = {
        "X": ["anonymous", "C1", "C2", "C3"],
        "K": ["anonymous", "C1", "C2", "C3"],
        "H": ["C1", "C2"],
        "M1": ["C1"],
        "M2": ["C2"],
        "H2": ["C3"],
        "M3": ["C3"],
    }
    for who, labels in expected.items():
        listed = people.http(who).get("/api/v1/touchpoints", params={"sort": "occurred_at"})
        assert listed.status_code == 200, who
        assert sorted(t["id"] for t in listed.json()["items"]) == sorted(ids[x] for x in labels), (
            who
        )
        assert listed.json()["total"] == len(labels)
    assert people.http("A").get("/api/v1/touchpoints").status_code == 403
    other = people.http("M1").get("/api/v1/touchpoints", params={"client_id": people.clients["C2"]})
    assert other.json()["total"] == 0
    calls = marketer.get("/api/v1/touchpoints", params={"kind": "call"}).json()
    assert [t["id"] for t in calls["items"]] == [ids["C3"]]


def test_touchpoint_writes_and_bad_input_store_nothing(people, setup, engine):
    before = snapshot(engine, Touchpoint)
    for who in ("H", "M1", "A"):
        assert _touch(people.http(who), visitor_id="v-1").status_code == 403, who
    api = people.http("K")
    cases = [
        ({"visitor_id": "v-1", "occurred_at": "2026-03-01T12:00:00"}, "occurred_at"),
        ({"visitor_id": "v-1", "occurred_at": "yesterday"}, "occurred_at"),
        ({}, "visitor_id"),
        ({"client_id": 999999}, "client_id"),
        ({"visitor_id": "v-1", "kind": "tv"}, "kind"),
        ({"visitor_id": "v-1", "pages": -1}, "pages"),
        ({"visitor_id": "v-1", "campaign_id": 999}, "campaign_id"),
        ({"visitor_id": "v-1", "channel_id": 999}, "channel_id"),
        ({"visitor_id": "v-1", "workspace_id": 2}, "workspace_id"),
        ({"visitor_id": "v" * 65}, "visitor_id"),
    ]
    for fields, field in cases:
        response = _touch(api, **fields)
        assert response.status_code == 422, (fields, response.text)
        assert fields_of(response) == [field], fields
    assert snapshot(engine, Touchpoint) == before
    naive = api.get("/api/v1/touchpoints", params={"occurred_from": "2026-03-01T00:00:00"})
    assert (naive.status_code, fields_of(naive)) == (422, ["occurred_from"])
