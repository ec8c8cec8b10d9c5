"""Client record scope over real HTTP, driven by one declarative table (RELIABILITY B1 1–4).

Targets: C1 (owner M1, team T1), C2 (owner M2, team T1), C3 (owner M3, team T2) and U (no
owner). A cell is what a role gets for an action on a target. For actions on one record it is
the HTTP status. For the list and the two searches it is what the caller learns about the
target: 200 = listed, 404 = absent as if it did not exist, 403 = the whole call refused.

On every denied cell the database is unchanged (no row, no audit event) and the response is
indistinguishable from the one for a client id that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.access.support import assert_same_denial, database_snapshot
from tests.fixtures import Cast
from voronka.client.models import Client, ClientKind, ContactKind, ContactPoint
from voronka.db.session import unit_of_work
from voronka.web.etag import etag_of

TARGETS = ("C1", "C2", "C3", "U")
PHONES = {"C1": "+79990000001", "C2": "+79990000002", "C3": "+79990000003", "U": "+79990000004"}
MISSING_ID = 999999

# fmt: off
MATRIX: dict[tuple[str, str], tuple[int, int, int, int]] = {
    # action           role     C1   C2   C3   U
    ("read",           "X"):  (200, 200, 200, 200),
    ("read",           "H"):  (200, 200, 404, 200),
    ("read",           "M1"): (200, 404, 404, 404),
    ("read",           "H2"): (404, 404, 200, 200),
    ("read",           "K"):  (403, 403, 403, 403),
    ("read",           "A"):  (403, 403, 403, 403),
    ("list",           "X"):  (200, 200, 200, 200),
    ("list",           "H"):  (200, 200, 404, 200),
    ("list",           "M1"): (200, 404, 404, 404),
    ("list",           "H2"): (404, 404, 200, 200),
    ("list",           "K"):  (403, 403, 403, 403),
    ("list",           "A"):  (403, 403, 403, 403),
    ("search_name",    "X"):  (200, 200, 200, 200),
    ("search_name",    "H"):  (200, 200, 404, 200),
    ("search_name",    "M1"): (200, 404, 404, 404),
    ("search_name",    "H2"): (404, 404, 200, 200),
    ("search_name",    "K"):  (403, 403, 403, 403),
    ("search_name",    "A"):  (403, 403, 403, 403),
    ("search_phone",   "X"):  (200, 200, 200, 200),
    ("search_phone",   "H"):  (200, 200, 404, 200),
    ("search_phone",   "M1"): (200, 404, 404, 404),
    ("search_phone",   "H2"): (404, 404, 200, 200),
    ("search_phone",   "K"):  (403, 403, 403, 403),
    ("search_phone",   "A"):  (403, 403, 403, 403),
    ("timeline",       "X"):  (200, 200, 200, 200),
    ("timeline",       "H"):  (200, 200, 404, 200),
    ("timeline",       "M1"): (200, 404, 404, 404),
    ("timeline",       "H2"): (404, 404, 200, 200),
    ("timeline",       "K"):  (403, 403, 403, 403),
    ("timeline",       "A"):  (403, 403, 403, 403),
    ("update",         "X"):  (200, 200, 200, 200),
    ("update",         "H"):  (200, 200, 404, 200),
    ("update",         "M1"): (200, 404, 404, 404),
    ("update",         "H2"): (404, 404, 200, 200),
    ("update",         "K"):  (403, 403, 403, 403),
    ("update",         "A"):  (403, 403, 403, 403),
    ("delete",         "X"):  (204, 204, 204, 204),
    ("delete",         "H"):  (204, 204, 404, 204),
    ("delete",         "M1"): (403, 403, 403, 403),
    ("delete",         "H2"): (404, 404, 204, 204),
    ("delete",         "K"):  (403, 403, 403, 403),
    ("delete",         "A"):  (403, 403, 403, 403),
    ("merge",          "X"):  (200, 200, 200, 200),
    ("merge",          "H"):  (200, 200, 404, 200),
    ("merge",          "M1"): (403, 403, 403, 403),
    ("merge",          "H2"): (404, 404, 200, 200),
    ("merge",          "K"):  (403, 403, 403, 403),
    ("merge",          "A"):  (403, 403, 403, 403),
    ("consents",       "X"):  (200, 200, 200, 200),
    ("consents",       "H"):  (200, 200, 404, 200),
    ("consents",       "M1"): (200, 404, 404, 404),
    ("consents",       "H2"): (404, 404, 200, 200),
    ("consents",       "K"):  (403, 403, 403, 403),
    ("consents",       "A"):  (403, 403, 403, 403),
    ("add_consent",    "X"):  (201, 201, 201, 201),
    ("add_consent",    "H"):  (201, 201, 404, 201),
    ("add_consent",    "M1"): (201, 404, 404, 404),
    ("add_consent",    "H2"): (404, 404, 201, 201),
    ("add_consent",    "K"):  (403, 403, 403, 403),
    ("add_consent",    "A"):  (403, 403, 403, 403),
}
# fmt: on
LISTINGS = {"list", "search_name", "search_phone"}


@dataclass
class Scene:
    """The standard cast plus an unassigned client U and, per target, a duplicate to merge."""

    people: Cast
    engine: Engine
    ids: dict[str, int]
    twins: dict[str, int]

    def version(self, client_id: int) -> int:
        with unit_of_work(self.engine) as session:
            return session.scalar(select(Client.version).where(Client.id == client_id)) or 1


def _add_client(engine: Engine, name: str, owner_id: int | None, phone: str) -> int:
    with unit_of_work(engine) as session:
        client = Client(
            workspace_id=1,
            kind=ClientKind.PERSON,
            name=name,
            owner_id=owner_id,
            search_text=name.casefold(),
        )
        client.contacts.append(ContactPoint(workspace_id=1, kind=ContactKind.PHONE, value=phone))
        session.add(client)
        session.flush()
        return client.id


@pytest.fixture
def scene(people: Cast, engine: Engine) -> Scene:
    ids = {**people.clients, "U": _add_client(engine, "Client U", None, PHONES["U"])}
    owners = {"C1": "M1", "C2": "M2", "C3": "M3"}
    twins = {
        label: _add_client(
            engine,
            f"Twin {label}",
            people.users[owners[label]] if label in owners else None,
            PHONES[label],
        )
        for label in TARGETS
    }
    return Scene(people, engine, ids, twins)


# One call per action on a client id; ``twin`` is the duplicate merged into the target.
Call = Callable[[TestClient, Scene, int, int], httpx2.Response]


def _read(api: TestClient, scene: Scene, client_id: int, twin: int) -> httpx2.Response:
    return api.get(f"/api/v1/clients/{client_id}")


def _timeline(api: TestClient, scene: Scene, client_id: int, twin: int) -> httpx2.Response:
    return api.get(f"/api/v1/clients/{client_id}/timeline")


def _update(api: TestClient, scene: Scene, client_id: int, twin: int) -> httpx2.Response:
    etag = etag_of(client_id, scene.version(client_id))
    return api.patch(
        f"/api/v1/clients/{client_id}", json={"name": "Renamed"}, headers={"If-Match": etag}
    )


def _delete(api: TestClient, scene: Scene, client_id: int, twin: int) -> httpx2.Response:
    etag = etag_of(client_id, scene.version(client_id))
    return api.delete(f"/api/v1/clients/{client_id}", headers={"If-Match": etag})


def _merge(api: TestClient, scene: Scene, client_id: int, twin: int) -> httpx2.Response:
    return api.post(f"/api/v1/clients/{client_id}/merge", json={"source_ids": [twin]})


def _consents(api: TestClient, scene: Scene, client_id: int, twin: int) -> httpx2.Response:
    return api.get(f"/api/v1/clients/{client_id}/consents")


def _add_consent(api: TestClient, scene: Scene, client_id: int, twin: int) -> httpx2.Response:
    consent = {"purpose": "marketing_email", "granted": True, "method": "web_form"}
    return api.post(f"/api/v1/clients/{client_id}/consents", json=consent)


RECORD_CALLS: dict[str, Call] = {
    "read": _read,
    "timeline": _timeline,
    "update": _update,
    "delete": _delete,
    "merge": _merge,
    "consents": _consents,
    "add_consent": _add_consent,
}


def _assert_reveals_nothing(response: httpx2.Response, label: str) -> None:
    for secret in (f"Client {label}", PHONES[label]):
        assert secret not in response.text, (label, response.text)


def _check_record_cell(
    api: TestClient, scene: Scene, action: str, label: str, expected: int
) -> None:
    call = RECORD_CALLS[action]
    before = database_snapshot(scene.engine)
    response = call(api, scene, scene.ids[label], scene.twins[label])
    assert response.status_code == expected, (action, label, response.text)
    if expected in (403, 404):
        missing = call(api, scene, MISSING_ID, MISSING_ID - 1)
        assert database_snapshot(scene.engine) == before, f"{action} {label} changed the database"
        assert_same_denial(response, missing)
        _assert_reveals_nothing(response, label)


def _listing(api: TestClient, action: str, label: str) -> httpx2.Response:
    params: dict[str, str | int] = {"page_size": 200}
    if action == "search_name":
        params["q"] = f"client {label}"
    elif action == "search_phone":
        params["phone"] = PHONES[label]
    return api.get("/api/v1/clients", params=params)


def _expected_rows(scene: Scene, action: str, label: str) -> set[int]:
    """Rows a listing shows when ``label`` is visible: twins share owner and phone, not name."""
    if action == "search_name":
        return {scene.ids[label]}
    return {scene.ids[label], scene.twins[label]}


def _check_refused_listing(api: TestClient, scene: Scene, action: str) -> None:
    before = database_snapshot(scene.engine)
    for label in TARGETS:
        response = _listing(api, action, label)
        assert response.status_code == 403, response.text
        assert "total" not in response.text
        _assert_reveals_nothing(response, label)
    assert database_snapshot(scene.engine) == before


def _check_listing(api: TestClient, scene: Scene, action: str, expected: tuple[int, ...]) -> None:
    if set(expected) == {403}:
        _check_refused_listing(api, scene, action)
        return
    visible = {label for label, status in zip(TARGETS, expected, strict=True) if status == 200}
    queries = ["all"] if action == "list" else TARGETS
    for label in queries:
        page = _listing(api, action, label).json()
        rows = {item["id"] for item in page["items"]}
        if action == "list":
            wanted = set().union(*(_expected_rows(scene, action, v) for v in visible))
        else:
            wanted = _expected_rows(scene, action, label) if label in visible else set()
        assert rows == wanted, (action, label, page)
        assert page["total"] == len(wanted), page


@pytest.mark.parametrize(("action", "role"), list(MATRIX), ids=[f"{a}-{r}" for a, r in MATRIX])
def test_client_scope_cell(scene: Scene, action: str, role: str):
    api = scene.people.http(role)
    expected = MATRIX[(action, role)]
    if action in LISTINGS:
        _check_listing(api, scene, action, expected)
        return
    for label, status in zip(TARGETS, expected, strict=True):
        _check_record_cell(api, scene, action, label, status)


def test_the_matrix_covers_every_action_role_pair():
    actions = {action for action, _ in MATRIX}
    roles = {role for _, role in MATRIX}
    assert actions == set(RECORD_CALLS) | LISTINGS
    assert set(MATRIX) == {(action, role) for action in actions for role in roles}
