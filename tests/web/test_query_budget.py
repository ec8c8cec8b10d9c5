"""RELIABILITY 142/143: list endpoints run a constant number of queries and cap page sizes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from voronka.client.models import Client, ClientKind, ClientTag, ContactKind, ContactPoint
from voronka.db.session import unit_of_work


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _add_clients(engine: Engine, owner_id: int, n: int) -> None:
    with unit_of_work(engine) as session:
        for i in range(n):
            client = Client(workspace_id=1, kind=ClientKind.PERSON, name=f"Bulk {i}",
                            owner_id=owner_id, search_text=f"bulk {i}")
            client.contacts.append(ContactPoint(workspace_id=1, kind=ContactKind.EMAIL,
                                                value=f"bulk{i}@example.ru"))
            client.tags.append(ClientTag(workspace_id=1, tag="bulk"))
            session.add(client)


def test_client_list_query_count_does_not_grow_with_page_size(people, engine):
    _add_clients(engine, people.users["M1"], 120)
    api = people.http("M1")
    api.get("/api/v1/clients")  # warm up the session lookups
    with counted(engine) as small:
        assert len(api.get("/api/v1/clients", params={"page_size": 10}).json()["items"]) == 10
    with counted(engine) as large:
        assert len(api.get("/api/v1/clients", params={"page_size": 100}).json()["items"]) == 100
    assert len(large) == len(small)
    assert len(small) <= 10, small


def test_page_size_is_capped(people, engine):
    _add_clients(engine, people.users["M1"], 230)
    body = people.http("M1").get("/api/v1/clients", params={"page_size": 1_000_000}).json()
    assert body["page_size"] == 200
    assert len(body["items"]) == 200
    assert body["total"] == 231  # 230 bulk clients + C1
