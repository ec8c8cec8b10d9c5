"""Screen pop over real HTTP: a manager's open event stream receives the caller's card
within a second of the webhook, through the in-process broker and through Redis."""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import uvicorn

from tests.integrations.conftest import World, fixture_text, zadarma_signature
from voronka.access.actor import Actor
from voronka.activity.models import Activity, ActivityKind
from voronka.db.session import unit_of_work
from voronka.integrations.telephony.service import set_extension
from voronka.live import Broker
from voronka.web.app import create_app

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Server:
    port: int
    broker: Broker

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)


@pytest.fixture(params=["in-process", "redis"])
def server(request: pytest.FixtureRequest, world: World) -> Iterator[Server]:
    redis = request.param == "redis"
    broker = Broker(REDIS_URL if redis else None,
                    channel=f"voronka-test-{secrets.token_hex(4)}")
    app = create_app(world.engine)
    app.state.broker = broker
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections wait in the backlog until uvicorn accepts them
    config = uvicorn.Config(app, log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=2)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    ready = Server(sock.getsockname()[1], broker)
    # FastAPI builds its routes' state on the first request (~1 s on a busy machine): pay it
    # here, so the test times the webhook path and not the framework's start-up
    warm = ready.connect()
    warm.request("GET", "/api/v1/hooks/zadarma?zd_echo=warm")
    assert warm.getresponse().read() == b"warm"
    warm.close()
    yield ready
    uv.should_exit = True
    thread.join(timeout=10)
    broker.close()
    sock.close()


class Stream:
    """A Server-Sent Events reader on a raw HTTP connection."""

    def __init__(self, server: Server, token: str) -> None:
        self.connection = server.connect()
        self.connection.request("GET", "/api/v1/events/stream",
                                headers={"Authorization": token, "Accept": "text/event-stream"})
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("content-type", "").startswith("text/event-stream")
        assert self.response.readline() == b": connected\n"  # subscribed from here on
        self.response.readline()

    def next_event(self) -> dict:
        data = None
        while True:
            line = self.response.readline().decode().rstrip("\n")
            if line.startswith("data: "):
                data = json.loads(line[len("data: "):])
            elif line == "" and data is not None:
                return data

    def close(self) -> None:
        self.connection.close()


def _ring(server: Server, caller: str, extension: str) -> float:
    body = (fixture_text("zadarma_notify_internal.txt")
            .replace("caller_id=79161234567", f"caller_id={caller}")
            .replace("internal=101", f"internal={extension}"))
    fields = dict(pair.split("=", 1) for pair in body.split("&"))
    fields["call_start"] = fields["call_start"].replace("+", " ").replace("%3A", ":")
    connection = server.connect()
    sent = time.monotonic()
    connection.request("POST", "/api/v1/hooks/zadarma", body=body.encode(), headers={
        "Signature": zadarma_signature(fields),
        "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    assert response.status == 200, response.read()
    connection.close()
    return sent


def test_the_card_reaches_the_manager_within_a_second(world: World, server: Server):
    c1 = world.cast.clients["C1"]
    with unit_of_work(world.engine) as session:
        session.add(Activity(workspace_id=1, kind=ActivityKind.NOTE, client_id=c1,
                             subject="Asked for a quote", owner_id=world.cast.users["M1"],
                             occurred_at=datetime(2026, 11, 19, 9, 0, tzinfo=UTC)))
        set_extension(session, actor=Actor.system(1), extension="102",
                      user_id=world.cast.users["M2"])
    m1 = Stream(server, world.cast.http("M1").headers["Authorization"])
    m2 = Stream(server, world.cast.http("M2").headers["Authorization"])
    try:
        sent = _ring(server, "79990000001", "101")  # C1 (M1's client) rings extension 101
        card = m1.next_event()
        assert time.monotonic() - sent < 1.0
        note = card["client"]["last_interactions"][0]
        assert card == {
            "type": "call", "phase": "ringing", "provider": "zadarma",
            "call_id": "in_7c5a1e0f2d", "direction": "inbound", "number": "+79990000001",
            "client": {"id": c1, "visible": True, "name": "Client C1", "open_deals": [],
                       "last_interactions": [{"id": note["id"], "kind": "note",
                                              "subject": "Asked for a quote",
                                              "occurred_at": "2026-11-19T09:00:00+00:00"}]},
        }
        # M2 gets only calls on their own extension; C1 is outside M2's record scope
        _ring(server, "79990000001", "102")
        other = m2.next_event()
        assert other["client"] == {"id": c1, "visible": False}
        assert other["phase"] == "ringing"
    finally:
        m1.close()
        m2.close()


def test_the_stream_needs_a_signed_in_user(world: World, server: Server):
    connection = server.connect()
    connection.request("GET", "/api/v1/events/stream")
    response = connection.getresponse()
    assert response.status == 401
    assert json.loads(response.read())["error"]["code"] == "not_authenticated"
    connection.close()


def _revoke(world: World, how: str, secret: str) -> None:
    from voronka import clock
    from voronka.user import credential
    from voronka.user.models import ApiToken, User, UserSession
    from voronka.user.service import set_active

    with unit_of_work(world.engine) as session:
        if how == "deactivated":
            user = session.get(User, world.cast.users["M1"])
            set_active(session, actor=world.cast.actor("X"), user=user, active=False)
            return
        model = UserSession if how == "signed out" else ApiToken
        row = session.query(model).filter(model.token_hash == credential.digest(secret)).one()
        row.revoked_at = clock.now()


@pytest.mark.parametrize("server", ["in-process"], indirect=True)
@pytest.mark.parametrize("how", ["signed out", "token revoked", "deactivated"])
def test_the_stream_ends_when_its_credential_is_revoked(
    world: World, server: Server, how: str, monkeypatch: pytest.MonkeyPatch
):
    from voronka.user import credential
    from voronka.user.models import User
    from voronka.web.api.v1 import events

    monkeypatch.setattr(events, "AUTH_RECHECK_SECONDS", 0.5)
    if how == "token revoked":
        with unit_of_work(world.engine) as session:
            user = session.get(User, world.cast.users["M1"])
            _, secret = credential.issue_token(session, user, name="pop", read_only=True,
                                               days=None)
    else:
        secret = world.cast.http("M1").headers["Authorization"].removeprefix("Bearer ")
    stream = Stream(server, f"Bearer {secret}")
    try:
        time.sleep(1.2)  # two checks pass while the credential is valid: the stream stays
        _ring(server, "79990000001", "101")
        assert stream.next_event()["phase"] == "ringing"
        _revoke(world, how, secret)
        revoked = time.monotonic()
        lines = []
        while line := stream.response.readline():  # b"" once the server ends the stream
            lines.append(line)
        assert time.monotonic() - revoked < 4.0
        assert b"event: end\n" in lines
    finally:
        stream.close()
    again = server.connect()
    again.request("GET", "/api/v1/events/stream", headers={"Authorization": f"Bearer {secret}"})
    assert again.getresponse().status == 401
    again.close()
