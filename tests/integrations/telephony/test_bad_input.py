"""Bad webhook requests: refused with one error naming the problem, and nothing stored.

RELIABILITY items 49 (signatures, staleness, re-serialised JSON), 50 (bodies), 112 (clock skew).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.integrations.conftest import SECRETS, Hooks, World, count, fixture_text
from voronka.integrations.inbound import InboundEvent
from voronka.integrations.telephony.base import timestamped_signature
from voronka.jobs.models import Job


def _deep(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = {"a": value}
    return value


STARTED = json.loads(fixture_text("generic_call_started.json"))


def _with(**changes: object) -> str:
    body = {**STARTED, **changes}
    return json.dumps({k: v for k, v in body.items() if v is not None})


@pytest.mark.parametrize(("body", "field", "message"), [
    (_with(event_id=None), "event_id", "required"),
    (_with(call_id=None), "call_id", "required"),
    (_with(direction="sideways"), "direction", "must be one of inbound, outbound"),
    (_with(occurred_at="yesterday"), "occurred_at", "must be an ISO 8601 date-time"),
    (_with(occurred_at="2026-11-20T07:15:00"), "occurred_at",
     "must carry a UTC offset (e.g. Z or +03:00)"),
    (_with(call_id={"nested": 1}), "call_id", "must be a string"),
    (_with(event="call.ended", status=None), "status", "required"),
    (_with(wait_seconds=-5), "wait_seconds", "must be a whole number ≥ 0"),
    (_with(wait_seconds=True), "wait_seconds", "must be a whole number"),
    (_with(recording_url="javascript:alert(1)"), "recording_url", "must be an https:// URL"),
    (_with(recording_url="http://records.example.com/1.mp3"), "recording_url",
     "must be an https:// URL"),
    ("[1, 2]", "body", "must be a JSON object"),
    ('{"event_id": ', "body", "not valid JSON"),
    ("[" * 1000 + "]" * 1000, "body", "nested deeper than 32 levels"),
    (json.dumps({"event_id": "x", "event": "call.started", "deep": _deep(40)}), "body",
     "nested deeper than 32 levels"),
], ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None)
def test_malformed_payload_is_400_naming_the_field(world: World, hooks: Hooks, body, field,
                                                   message):
    response = hooks.generic(body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["details"][0]["field"] == field and error["details"][0]["message"] == message
    assert count(world.engine, InboundEvent) == 0 and count(world.engine, Job) == 0


def test_non_utf8_body_is_400(world: World, hooks: Hooks):
    response = hooks.generic(b'{"event_id": "\xff\xfe"}')
    assert response.status_code == 400
    assert response.json()["error"]["details"][0] == {"message": "not UTF-8 text",
                                                      "field": "body"}
    assert count(world.engine, InboundEvent) == 0


def test_unknown_fields_are_ignored_and_unknown_events_acknowledged(world: World, hooks: Hooks):
    extra = hooks.generic(_with(surprise={"x": 1}, event_id="e-extra"))
    assert extra.status_code == 200 and extra.json()["status"] == "received"
    unknown = hooks.generic(_with(event="call.transferred", event_id="e-unknown"))
    assert unknown.status_code == 200 and unknown.json()["status"] == "ignored"
    assert count(world.engine, InboundEvent) == 2 and count(world.engine, Job) == 1


def test_signature_problems_are_401_and_store_nothing(world: World, hooks: Hooks):
    body = fixture_text("generic_call_started.json")
    now = int(time.time())
    resigned = json.dumps(json.loads(body), indent=1)  # same JSON, other bytes
    answers = [
        hooks.http.post("/api/v1/hooks/generic", content=body.encode()),  # unsigned
        hooks.generic(body, secret="not-the-secret"),
        hooks.generic(body, at=now - 400),  # older than the 300 s tolerance
        hooks.generic(body, at=now + 400),  # a provider clock far ahead
        hooks.http.post("/api/v1/hooks/generic", content=resigned.encode(), headers={
            "X-Voronka-Signature": timestamped_signature(
                SECRETS["VORONKA_HOOKS_GENERIC_SECRET"], now, body.encode())}),
        hooks.http.post("/api/v1/hooks/generic", content=body.encode(),
                        headers={"X-Voronka-Signature": "v1=abc"}),
    ]
    assert [a.status_code for a in answers] == [401] * 6
    assert {a.json()["error"]["code"] for a in answers} == {"not_authenticated"}
    assert count(world.engine, InboundEvent) == 0
    within = hooks.generic(body, at=now - 200)  # inside the tolerance: accepted
    assert within.status_code == 200


def test_an_unconfigured_provider_refuses_everything(world: World, hooks: Hooks, monkeypatch):
    from voronka.config import get_settings

    monkeypatch.delenv("VORONKA_HOOKS_GENERIC_SECRET")
    get_settings.cache_clear()
    response = hooks.generic(fixture_text("generic_call_started.json"))
    assert response.status_code == 401
    assert "not configured" in response.json()["error"]["message"]
    assert count(world.engine, InboundEvent) == 0


def test_a_ten_megabyte_body_is_413(world: World, hooks: Hooks):
    response = hooks.generic("x" * 10_000_000)
    assert response.status_code == 413
    assert count(world.engine, InboundEvent) == 0
