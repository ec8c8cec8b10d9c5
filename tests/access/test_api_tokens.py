"""API tokens: read-only tokens cannot write, and secrets never come back (B1 25)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.access.support import assert_error_shape, database_snapshot
from tests.fixtures import Cast
from voronka.client.models import Client
from voronka.db.session import unit_of_work
from voronka.user.credential import digest
from voronka.web.app import create_app
from voronka.web.etag import etag_of

CONSENT = {"purpose": "marketing_sms", "granted": True, "method": "call"}


def _issue(people: Cast, who: str, *, read_only: bool) -> dict[str, Any]:
    response = people.http(who).post(
        "/api/v1/auth/tokens", json={"name": "integration", "read_only": read_only}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def read_only_api(people: Cast, engine: Engine) -> Iterator[TestClient]:
    """An HTTP client of M1 that authenticates with a read-only token only."""
    token = _issue(people, "M1", read_only=True)
    with TestClient(create_app(engine)) as client:
        client.headers["Authorization"] = f"Bearer {token['secret']}"
        yield client


def test_read_only_token_reads(people, read_only_api):
    response = read_only_api.get(f"/api/v1/clients/{people.clients['C1']}")
    assert response.status_code == 200
    assert response.json()["name"] == "Client C1"


def _writes(people: Cast, engine: Engine) -> list[tuple[str, str, Any, dict[str, str]]]:
    client_id = people.clients["C1"]
    with unit_of_work(engine) as session:
        version = session.scalar(select(Client.version).where(Client.id == client_id))
    assert version is not None
    if_match = {"If-Match": etag_of(client_id, version)}
    return [
        ("POST", "/api/v1/clients", {"name": "Injected"}, {}),
        ("PATCH", f"/api/v1/clients/{client_id}", {"name": "Changed"}, if_match),
        ("DELETE", f"/api/v1/clients/{client_id}", None, if_match),
        ("POST", f"/api/v1/clients/{client_id}/consents", CONSENT, {}),
        ("PATCH", "/api/v1/auth/me", {"name": "Changed"}, {}),
        ("POST", "/api/v1/auth/tokens", {"name": "escalate", "read_only": False}, {}),
    ]


def test_read_only_token_cannot_write(people, engine, read_only_api):
    before = database_snapshot(engine)
    for method, path, body, headers in _writes(people, engine):
        response = read_only_api.request(method, path, json=body, headers=headers)
        error = assert_error_shape(response, 403)
        assert error["message"] == "this API token is read-only", (method, path)
    assert database_snapshot(engine) == before


def test_read_only_token_cannot_revoke_tokens(people, engine, read_only_api):
    other = _issue(people, "M1", read_only=False)
    before = database_snapshot(engine)
    assert_error_shape(read_only_api.delete(f"/api/v1/auth/tokens/{other['id']}"), 403)
    assert database_snapshot(engine) == before


def test_token_secrets_are_shown_once_and_never_again(people):
    issued = _issue(people, "M1", read_only=False)
    secret = issued["secret"]
    api = people.http("M1")
    session_secret = api.headers["Authorization"].removeprefix("Bearer ")
    listed = api.get("/api/v1/auth/tokens")
    assert [t["id"] for t in listed.json()] == [issued["id"]]
    assert "secret" not in listed.json()[0] and "token_hash" not in listed.json()[0]
    reads = [
        listed,
        api.get("/api/v1/auth/me"),
        people.http("X").get("/api/v1/users"),
        people.http("X").get("/api/v1/audit-events", params={"page_size": 200}),
    ]
    for response in reads:
        assert response.status_code == 200
        for hidden in (secret, digest(secret), session_secret, digest(session_secret)):
            assert hidden not in response.text


def test_tokens_of_others_are_not_found(people, engine):
    token = _issue(people, "M2", read_only=False)
    api = people.http("M1")
    before = database_snapshot(engine)
    denied = api.delete(f"/api/v1/auth/tokens/{token['id']}")
    assert_error_shape(denied, 404)
    assert database_snapshot(engine) == before
