"""Asterisk: AMI events forwarded as JSON, and cdr_csv files through the API and the CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from tests.integrations.conftest import Hooks, World, count, fixture_text
from voronka.activity.models import Activity, CallStatus, Direction
from voronka.client.models import Client
from voronka.db.session import unit_of_work
from voronka.integrations.inbound import InboundEvent
from voronka.jobs import run_pending


def _at(hour: int, minute: int, second: int) -> datetime:
    return datetime(2026, 11, 20, hour, minute, second, tzinfo=UTC)


def test_ami_events_make_one_answered_call(world: World, hooks: Hooks):
    for name in ("asterisk_newchannel.json", "asterisk_dialbegin.json",
                 "asterisk_dialend.json", "asterisk_hangup.json"):
        response = hooks.asterisk(fixture_text(name))
        assert response.status_code == 200, response.text
    assert run_pending(world.engine) == 1  # one job run takes every queued event
    with unit_of_work(world.engine, write=False) as session:
        call = session.scalars(select(Activity)).one()
        assert call.external_id == "asterisk:1763622900.1"  # Linkedid names the call
        assert call.owner_id == world.cast.users["M1"]  # DestCallerIDNum 101
        assert call.tracking_number == "+74951110001"  # Exten dialled
        assert call.call_status is CallStatus.ANSWERED  # Hangup after DialEnd ANSWER
        # Timestamp 1763622900 start, +10 s answer, +130 s hang-up
        start = datetime.fromtimestamp(1763622900, UTC)
        assert (call.queued_at - start).seconds == 0
        assert (call.wait_seconds, call.talk_seconds) == (10, 120)


def test_cdr_import_through_the_api_all_rows_once(world: World, hooks: Hooks):
    text = fixture_text("asterisk_master.csv")
    admin = world.cast.http("X")
    response = admin.post("/api/v1/hooks/asterisk/cdr", content=text.encode(),
                          headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.json() == {"rows": 3, "stored": 3, "duplicates": 0}
    assert run_pending(world.engine) == 1  # one job run takes every queued event
    again = admin.post("/api/v1/hooks/asterisk/cdr", content=text.encode(),
                       headers={"Content-Type": "text/csv"})
    assert again.json() == {"rows": 3, "stored": 0, "duplicates": 3}
    assert run_pending(world.engine) == 0
    with unit_of_work(world.engine, write=False) as session:
        calls = {a.external_id: a for a in session.scalars(select(Activity))}
    answered = calls["asterisk:1763622900.1"]
    # start 10:15:00, answer 10:15:10, end 10:17:10 Moscow time = 07:15:00 … 07:17:10 UTC
    assert (answered.queued_at, answered.answered_at, answered.ended_at) == (
        _at(7, 15, 0), _at(7, 15, 10), _at(7, 17, 10))
    assert (answered.wait_seconds, answered.talk_seconds) == (10, 120)
    assert answered.owner_id == world.cast.users["M1"]  # dstchannel PJSIP/101-…
    missed = calls["asterisk:1763623200.3"]
    assert (missed.call_status, missed.wait_seconds, missed.talk_seconds) == (
        CallStatus.MISSED, 30, 0)
    outbound = calls["asterisk:1763623800.5"]
    assert outbound.direction is Direction.OUTBOUND and outbound.call_status is CallStatus.BUSY
    assert outbound.client_id == world.cast.clients["C2"]  # dst 79990000002 is C2's phone
    assert count(world.engine, Client) == 5  # C1–C3 and the two new callers


def test_a_bad_cdr_row_imports_nothing_and_is_named(world: World, hooks: Hooks):
    text = fixture_text("asterisk_master.csv").replace('"NO ANSWER"', '"MAYBE"')
    response = world.cast.http("X").post("/api/v1/hooks/asterisk/cdr", content=text.encode())
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [{
        "message": "must be one of ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION",
        "field": "disposition", "row": 2, "value": "MAYBE"}]
    assert count(world.engine, InboundEvent) == 0


def test_managers_may_not_import_call_records(world: World, hooks: Hooks):
    response = world.cast.http("M1").post("/api/v1/hooks/asterisk/cdr", content=b"x")
    assert response.status_code == 403
    assert count(world.engine, InboundEvent) == 0


def test_cdr_import_from_the_cli(world: World, tmp_path: Path, cli):
    path = tmp_path / "Master.csv"
    path.write_text(fixture_text("asterisk_master.csv") + "\n", encoding="utf-8")
    result = cli("asterisk-cdr", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "3 row(s): 3 queued, 0 already imported"
    assert run_pending(world.engine) == 1  # one job run takes every queued event
    assert count(world.engine, Activity) == 3
    missing = cli("asterisk-cdr", str(tmp_path / "nope.csv"))
    assert (missing.exit_code, missing.stderr.strip()) == (
        1, f"error: no such file: {tmp_path / 'nope.csv'}")


def test_stale_ami_signature_is_refused(world: World, hooks: Hooks):
    stale = int(time.time()) - 400  # tolerance is 300 s
    response = hooks.asterisk(fixture_text("asterisk_newchannel.json"), at=stale)
    assert response.status_code == 401
    assert "timestamp" in response.json()["error"]["message"]
    assert count(world.engine, InboundEvent) == 0
