"""Shared fixtures: the standard cast of users and an HTTP client per role.

The cast follows shared/RELIABILITY.md: one team (T1) with head of sales H, managers M1
and M2; a second team (T2) with head H2 and manager M3; marketer K, analyst A, admin X.
M1 owns client C1, M2 owns C2, M3 owns C3. Everyone signs in through the real login
endpoint with a real password.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from voronka.access.actor import Actor
from voronka.client.models import Client, ClientKind, ContactKind, ContactPoint
from voronka.db.session import unit_of_work
from voronka.user.models import Role, Team, User
from voronka.user.password import hash_password
from voronka.web.app import create_app
from voronka.workspace.service import ensure_default

PASSWORD = "correct horse battery"
CAST = {
    "X": (Role.ADMIN, None),
    "H": (Role.HEAD_OF_SALES, "T1"),
    "M1": (Role.SALES_MANAGER, "T1"),
    "M2": (Role.SALES_MANAGER, "T1"),
    "H2": (Role.HEAD_OF_SALES, "T2"),
    "M3": (Role.SALES_MANAGER, "T2"),
    "K": (Role.MARKETER, None),
    "A": (Role.ANALYST, None),
}
CLIENTS = {"C1": ("M1", "+79990000001"), "C2": ("M2", "+79990000002"),
           "C3": ("M3", "+79990000003")}


@dataclass
class Cast:
    """Ids of the seeded users, teams and clients, and a signed-in client per user."""

    app_engine: Engine
    users: dict[str, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)
    clients: dict[str, int] = field(default_factory=dict)
    _http: dict[str, TestClient] = field(default_factory=dict)

    def http(self, who: str) -> TestClient:
        """A TestClient signed in as ``who`` through POST /api/v1/auth/login."""
        if who not in self._http:
            client = TestClient(create_app(self.app_engine))
            response = client.post("/api/v1/auth/login",
                                   json={"email": email_of(who), "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.headers["Authorization"] = f"Bearer {response.json()['token']}"
            self._http[who] = client
        return self._http[who]

    def actor(self, who: str) -> Actor:
        role, team = CAST[who]
        return Actor(self.users[who], 1, role, self.teams.get(team) if team else None)


def email_of(who: str) -> str:
    return f"{who.lower()}@test.voronka.local"


def seed_cast(engine: Engine) -> Cast:
    cast = Cast(app_engine=engine)
    password_hash = hash_password(PASSWORD)
    with unit_of_work(engine) as session:
        ensure_default(session)
        for name in ("T1", "T2"):
            team = Team(workspace_id=1, name=name)
            session.add(team)
            session.flush()
            cast.teams[name] = team.id
        for who, (role, team_name) in CAST.items():
            user = User(workspace_id=1, email=email_of(who), name=f"User {who}", role=role,
                        team_id=cast.teams.get(team_name) if team_name else None,
                        password_hash=password_hash)
            session.add(user)
            session.flush()
            cast.users[who] = user.id
        for label, (owner, phone) in CLIENTS.items():
            client = Client(workspace_id=1, kind=ClientKind.PERSON, name=f"Client {label}",
                            owner_id=cast.users[owner], search_text=f"client {label.lower()}")
            client.contacts.append(ContactPoint(workspace_id=1, kind=ContactKind.PHONE,
                                                value=phone, is_primary=True))
            session.add(client)
            session.flush()
            cast.clients[label] = client.id
    return cast


@pytest.fixture
def people(engine: Engine) -> Iterator[Cast]:
    """The standard cast on the current backend."""
    cast = seed_cast(engine)
    yield cast
    for client in cast._http.values():
        client.close()


@pytest.fixture
def anonymous(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as client:
        yield client
