"""Filters that probe outside the scope, reassignment, and mass assignment (B1 5, 7, 8)."""

from __future__ import annotations

import httpx2
import pytest
from sqlalchemy import Engine, select

from tests.access.support import assert_error_shape, database_snapshot
from tests.fixtures import Cast
from voronka.client.models import Client
from voronka.db.session import unit_of_work
from voronka.web.etag import etag_of


def _etag(engine: Engine, client_id: int) -> str:
    with unit_of_work(engine) as session:
        version = session.scalar(select(Client.version).where(Client.id == client_id))
    assert version is not None
    return etag_of(client_id, version)


def _owner_of(engine: Engine, client_id: int) -> int | None:
    with unit_of_work(engine) as session:
        return session.scalar(select(Client.owner_id).where(Client.id == client_id))


@pytest.mark.parametrize(
    ("who", "owner"),
    [("M1", "M2"), ("M1", "M3"), ("H", "M3"), ("H2", "M1"), ("M1", None)],
    ids=["M1-M2", "M1-M3", "H-M3", "H2-M1", "M1-nobody"],
)
def test_filtering_by_an_owner_outside_the_scope_is_refused_without_a_count(
    people, engine, who, owner
):
    owner_id = people.users[owner] if owner else 999999
    api = people.http(who)
    before = database_snapshot(engine)
    response = api.get("/api/v1/clients", params={"owner_id": owner_id})
    error = assert_error_shape(response, 403)
    assert [d["field"] for d in error["details"]] == ["owner_id"]
    assert "total" not in response.json() and "Client" not in response.text
    assert database_snapshot(engine) == before


def test_filtering_by_an_owner_inside_the_scope_is_allowed(people):
    page = people.http("H").get("/api/v1/clients", params={"owner_id": people.users["M2"]}).json()
    assert [c["id"] for c in page["items"]] == [people.clients["C2"]]
    assert page["total"] == 1


def _reassign(
    people: Cast, engine: Engine, who: str, client: str, new_owner: str
) -> httpx2.Response:
    client_id = people.clients[client]
    return people.http(who).patch(
        f"/api/v1/clients/{client_id}",
        json={"owner_id": people.users[new_owner]},
        headers={"If-Match": _etag(engine, client_id)},
    )


def test_manager_cannot_give_own_client_away(people, engine):
    people.http("M1")
    before = database_snapshot(engine)
    error = assert_error_shape(_reassign(people, engine, "M1", "C1", "M2"), 403)
    assert [d["field"] for d in error["details"]] == ["owner_id"]
    assert database_snapshot(engine) == before


def test_head_reassigns_within_the_team(people, engine):
    response = _reassign(people, engine, "H", "C1", "M2")
    assert response.status_code == 200, response.text
    assert response.json()["owner_id"] == people.users["M2"]
    assert _owner_of(engine, people.clients["C1"]) == people.users["M2"]
    assert people.http("M1").get(f"/api/v1/clients/{people.clients['C1']}").status_code == 404


def test_head_cannot_reassign_to_another_team(people, engine):
    people.http("H")
    before = database_snapshot(engine)
    assert_error_shape(_reassign(people, engine, "H", "C1", "M3"), 403)
    assert database_snapshot(engine) == before


def test_head_cannot_take_a_client_of_another_team(people, engine):
    people.http("H")
    before = database_snapshot(engine)
    assert_error_shape(_reassign(people, engine, "H", "C3", "M1"), 404)
    assert database_snapshot(engine) == before


@pytest.mark.parametrize(
    "field_value",
    [
        {"id": 424242},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"created_by_id": 1},
        {"is_deleted": True},
        {"version": 99},
        {"merged_into_id": 2},
        {"workspace_id": 2},
        {"search_text": "planted"},
    ],
    ids=lambda value: next(iter(value)),
)
def test_client_patch_refuses_fields_outside_the_allowlist(people, engine, field_value):
    client_id, api = people.clients["C1"], people.http("X")
    before = database_snapshot(engine)
    response = api.patch(
        f"/api/v1/clients/{client_id}",
        json={"name": "Changed", **field_value},
        headers={"If-Match": _etag(engine, client_id)},
    )
    error = assert_error_shape(response, 422)
    assert [d["field"] for d in error["details"]] == list(field_value)
    assert database_snapshot(engine) == before


@pytest.mark.parametrize(
    "field_value",
    [
        {"role": "admin"},
        {"is_admin": True},
        {"is_active": False},
        {"email": "m1@evil.example"},
        {"team_id": 2},
        {"password_hash": "x"},
        {"id": 1},
    ],
    ids=lambda value: next(iter(value)),
)
def test_me_patch_refuses_fields_outside_the_allowlist(people, engine, field_value):
    api = people.http("M1")
    before = database_snapshot(engine)
    response = api.patch("/api/v1/auth/me", json={"name": "M", **field_value})
    error = assert_error_shape(response, 422)
    assert [d["field"] for d in error["details"]] == list(field_value)
    assert database_snapshot(engine) == before


def test_me_patch_changes_the_allowed_fields(people):
    response = people.http("M1").patch("/api/v1/auth/me", json={"name": "Maria", "language": "en"})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["language"], response.json()["role"]) == (
        "Maria",
        "en",
        "sales_manager",
    )
