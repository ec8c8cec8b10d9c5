"""Telephony test world: configured secrets, a pipeline, a tracked campaign number, and an
extension 101 answered by manager M1; helpers that sign and post provider payloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from tests.fixtures import Cast
from voronka import clock
from voronka.access.actor import Actor
from voronka.campaign.models import Campaign, Channel, ChannelKind, TrackingNumber
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.integrations.telephony.base import timestamped_signature
from voronka.integrations.telephony.service import set_extension
from voronka.pipeline.models import Pipeline, Stage, StageKind
from voronka.web.app import create_app

FIXTURES = Path(__file__).parent / "fixtures"
SECRETS = {
    "VORONKA_HOOKS_GENERIC_SECRET": "generic-secret-3f1a",
    "VORONKA_HOOKS_ASTERISK_SECRET": "asterisk-secret-77c2",
    "VORONKA_HOOKS_ZADARMA_SECRET": "zadarma-secret-c0ffee",
    "VORONKA_HOOKS_MANGO_API_KEY": "mango-key-8d2e",
    "VORONKA_HOOKS_MANGO_API_SALT": "mango-salt-41b9",
}
TRACKING = "+74951110001"


def fixture_text(name: str) -> str:
    """A payload fixture without its leading ``#`` citation lines."""
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("#")).strip()


@pytest.fixture
def hook_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@dataclass
class World:
    engine: Engine
    cast: Cast
    pipeline_id: int
    first_stage_id: int
    channel_id: int
    campaign_id: int
    tracking_id: int


@pytest.fixture
def world(people: Cast, hook_settings: None) -> World:
    engine = people.app_engine
    with unit_of_work(engine) as session:
        pipeline = Pipeline(workspace_id=1, name="Sales", is_default=True)
        session.add(pipeline)
        session.flush()
        stages = [
            Stage(workspace_id=1, pipeline_id=pipeline.id, name=name, position=i, kind=kind)
            for i, (name, kind) in enumerate(
                [("Lead", StageKind.OPEN), ("Won", StageKind.WON), ("Lost", StageKind.LOST)]
            )
        ]
        session.add_all(stages)
        channel = Channel(workspace_id=1, slug="yandex-direct", name="Yandex Direct",
                          kind=ChannelKind.PAID_SEARCH, is_paid=True)
        session.add(channel)
        session.flush()
        campaign = Campaign(workspace_id=1, channel_id=channel.id, name="Winter search")
        session.add(campaign)
        session.flush()
        number = TrackingNumber(workspace_id=1, number=TRACKING, campaign_id=campaign.id)
        session.add(number)
        session.flush()
        set_extension(session, actor=Actor.system(1), extension="101",
                      user_id=people.users["M1"])
        return World(engine, people, pipeline.id, stages[0].id, channel.id, campaign.id,
                     number.id)


#: Zadarma's signed fields per event, as in their PHP library (user-api-v1,
#: lib/Webhook/Notify*.php getSignatureString), written out here independently of our module.
ZADARMA_SIGNED = {
    "NOTIFY_START": "caller_id called_did call_start",
    "NOTIFY_INTERNAL": "caller_id called_did call_start",
    "NOTIFY_END": "caller_id called_did call_start",
    "NOTIFY_ANSWER": "caller_id destination call_start",
    "NOTIFY_OUT_START": "internal destination call_start",
    "NOTIFY_OUT_END": "internal destination call_start",
    "NOTIFY_RECORD": "pbx_call_id call_id_with_rec",
}


def zadarma_signature(fields: dict[str, str]) -> str:
    """PHP's base64_encode(hash_hmac('sha1', $signed, $secret)) — base64 of the hex digest."""
    signed = "".join(fields[name] for name in ZADARMA_SIGNED[fields["event"]].split())
    digest = hmac.new(SECRETS["VORONKA_HOOKS_ZADARMA_SECRET"].encode(), signed.encode(),
                      hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


@pytest.fixture
def frozen() -> Iterator[Any]:
    """``frozen(at)`` pins voronka's clock; released after the test."""
    yield clock.freeze
    clock.freeze(None)


class Hooks:
    """Posts signed provider payloads to the webhook endpoints."""

    def __init__(self, http: TestClient) -> None:
        self.http = http

    def generic(self, body: str | bytes, *, secret: str | None = None,
                at: int | None = None, path: str = "/api/v1/hooks/generic") -> Any:
        raw = body.encode() if isinstance(body, str) else body
        stamp = int(time.time()) if at is None else at
        key = secret or SECRETS["VORONKA_HOOKS_GENERIC_SECRET"]
        headers = {"X-Voronka-Signature": timestamped_signature(key, stamp, raw),
                   "Content-Type": "application/json"}
        return self.http.post(path, content=raw, headers=headers)

    def asterisk(self, body: str, **kwargs: Any) -> Any:
        return self.generic(body, secret=SECRETS["VORONKA_HOOKS_ASTERISK_SECRET"],
                            path="/api/v1/hooks/asterisk/events", **kwargs)

    def zadarma(self, body: str, *, signature: str | None = None) -> Any:
        fields = dict(parse_qsl(body, keep_blank_values=True))
        sign = signature or zadarma_signature(fields)
        return self.http.post("/api/v1/hooks/zadarma", content=body.encode(), headers={
            "Signature": sign, "Content-Type": "application/x-www-form-urlencoded"})

    @staticmethod
    def zadarma_signature_of(body: str) -> str:
        return zadarma_signature(dict(parse_qsl(body, keep_blank_values=True)))

    @staticmethod
    def mango_sign(json_text: str, api_key: str | None = None) -> str:
        """sign = sha256(vpbx_api_key + json + vpbx_api_salt), hex (Mango VPBX API)."""
        key = api_key or SECRETS["VORONKA_HOOKS_MANGO_API_KEY"]
        salt = SECRETS["VORONKA_HOOKS_MANGO_API_SALT"]
        return hashlib.sha256(f"{key}{json_text}{salt}".encode()).hexdigest()

    def mango(self, kind: str, json_text: str, *, sign: str | None = None,
              key: str | None = None) -> Any:
        api_key = key or SECRETS["VORONKA_HOOKS_MANGO_API_KEY"]
        signed = sign or self.mango_sign(json_text, api_key)
        form = urlencode({"vpbx_api_key": api_key, "sign": signed, "json": json_text})
        return self.http.post(f"/api/v1/hooks/mango/events/{kind}", content=form.encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})


#: One application per store: FastAPI builds its routes' state on the first request (~1 s),
#: so the webhook tests share it instead of paying that per test.
_APPS: dict[int, FastAPI] = {}


def app_for(engine: Engine) -> FastAPI:
    if id(engine) not in _APPS:
        _APPS[id(engine)] = create_app(engine)
    return _APPS[id(engine)]


@pytest.fixture
def hooks(world: World) -> Iterator[Hooks]:
    with TestClient(app_for(world.engine)) as http:
        yield Hooks(http)


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``voronka hooks …`` in this process against the test store; returns the result."""
    from typer.testing import CliRunner

    from voronka.cli import hooks as hooks_cli

    monkeypatch.setenv("VORONKA_DATABASE_URL",
                       world.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(hooks_cli.app, list(args))

    return invoke


def count(engine: Engine, model: Any, *conditions: Any) -> int:
    with unit_of_work(engine, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*conditions)))
