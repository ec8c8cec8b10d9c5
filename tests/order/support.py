"""Helpers shared by the order and marketing tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from voronka.db.base import Base


def snapshot(engine: Engine, *models: type[Base]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables of ``models``, so a test can assert that nothing changed.

    Sign-in events are left out: the cast signs in lazily, on its first request as a role.
    """
    state = {}
    with engine.connect() as conn:
        for model in models:
            table = model.__table__
            query = select(table).order_by(*table.primary_key.columns)
            if table.name == "audit_event":
                query = query.where(table.c.action != "sign_in")
            rows = conn.execute(query)
            state[table.name] = [tuple(row) for row in rows]
    return state


def fields_of(response: Any) -> list[str | None]:
    """The ``field`` of every detail in an error response."""
    return [detail.get("field") for detail in response.json()["error"]["details"]]
