"""Assertions shared by the access tests: what a denial must leave unchanged and unrevealed."""

from __future__ import annotations

from typing import Any

import httpx2
from sqlalchemy import Engine, select

from voronka.db.models import Base

ERROR_KEYS = {"code", "message", "details", "request_id"}


def database_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, so a test can assert that nothing at all changed.

    Sign-in events are left out: the cast signs in lazily, on its first request as a role.
    """
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(_without_sign_ins(
                    select(table).order_by(*table.primary_key.columns), table))
            ]
            for table in Base.metadata.sorted_tables
        }


def _without_sign_ins(query, table):  # type: ignore[no-untyped-def]
    return query.where(table.c.action != "sign_in") if table.name == "audit_event" else query


def assert_error_shape(response: httpx2.Response, status: int) -> dict[str, Any]:
    """Assert the one error shape and the matching request id; return the error object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == ERROR_KEYS, body
    request_id = body["error"]["request_id"]
    assert request_id and request_id == response.headers.get("x-request-id"), response.headers
    return body["error"]


def without_request_id(response: httpx2.Response) -> dict[str, Any]:
    """The error body minus the per-request id, for comparing two denials."""
    error = dict(response.json()["error"])
    error.pop("request_id")
    return error


def assert_same_denial(denied: httpx2.Response, missing: httpx2.Response) -> None:
    """A denied record must look exactly like a record that does not exist."""
    assert denied.status_code == missing.status_code, (denied.text, missing.text)
    assert without_request_id(denied) == without_request_id(missing)
    assert set(denied.headers) == set(missing.headers)
