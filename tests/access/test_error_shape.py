"""One JSON error shape for every failure, with the request id of the response.

``{"error": {"code", "message", "details", "request_id"}}`` for each domain error class and
for the statuses the framework produces itself (401, 404, 405, 413, 422, 500).
"""

from __future__ import annotations

import inspect
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.access.support import assert_error_shape
from tests.fixtures import Cast
from voronka import errors
from voronka.config import get_settings
from voronka.errors import ALL_ERRORS, ErrorDetail, VoronkaError
from voronka.web.app import create_app


def _app_raising(engine: Engine, exc: BaseException) -> FastAPI:
    """A throwaway app (never the production one) with a route that raises ``exc``."""
    app = create_app(engine)

    @app.get("/api/v1/__raise__")
    def raise_it() -> None:
        raise exc

    return app


def test_all_errors_lists_every_error_class_of_the_module():
    defined = {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, VoronkaError) and cls is not VoronkaError
    }
    assert defined == set(ALL_ERRORS)


@pytest.mark.parametrize("error_class", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_domain_error_renders_in_the_one_shape(engine, error_class):
    exc = error_class("something went wrong", [ErrorDetail("is wrong", field="name")])
    with TestClient(_app_raising(engine, exc)) as client:
        response = client.get("/api/v1/__raise__")
    error = assert_error_shape(response, error_class.status)
    assert error["code"] == error_class.code
    assert error["message"] == "something went wrong"
    assert error["details"] == [{"message": "is wrong", "field": "name"}]


def test_unauthenticated_is_401(anonymous):
    error = assert_error_shape(anonymous.get("/api/v1/auth/me"), 401)
    assert error["code"] == "not_authenticated"


def test_unknown_path_and_unknown_record_are_404(people):
    api = people.http("M1")
    assert assert_error_shape(api.get("/api/v1/no-such-thing"), 404)["code"] == "not_found"
    assert assert_error_shape(api.get("/api/v1/clients/999999"), 404)["code"] == "not_found"


def test_wrong_method_is_405_with_allow_header(anonymous):
    response = anonymous.put("/api/v1/auth/login", json={})
    assert assert_error_shape(response, 405)["code"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


def test_invalid_input_is_422_naming_the_field(people):
    response = people.http("M1").post("/api/v1/clients", json={"name": "", "colour": "red"})
    error = assert_error_shape(response, 422)
    assert error["code"] == "invalid_input"
    assert {d["field"] for d in error["details"]} == {"name", "colour"}


def _oversized_body() -> bytes:
    return b"[" + b"0," * get_settings().max_request_bytes + b"0]"


def test_oversized_body_is_413_with_the_request_id(anonymous):
    response = anonymous.post(
        "/api/v1/auth/login",
        content=_oversized_body(),
        headers={"Content-Type": "application/json"},
    )
    assert assert_error_shape(response, 413)["code"] == "payload_too_large"


def test_oversized_chunked_body_is_413(anonymous):
    body = _oversized_body()
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    response = anonymous.post(
        "/api/v1/auth/login", content=chunks, headers={"Content-Type": "application/json"}
    )
    assert_error_shape(response, 413)


def _unexpected_failure(engine: Engine) -> httpx2.Response:
    app = _app_raising(engine, RuntimeError("secret internals: password=hunter2"))
    with TestClient(app, raise_server_exceptions=False) as client:
        return client.get("/api/v1/__raise__")


def test_unexpected_exception_is_a_generic_500(engine, caplog):
    response = _unexpected_failure(engine)
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {
        "code",
        "message",
        "details",
        "request_id",
    }
    error = body["error"]
    assert error["code"] == "internal_error"
    assert error["details"] == []
    assert error["request_id"] and error["request_id"] in error["message"]
    for leaked in ("hunter2", "secret internals", "RuntimeError", "Traceback", "raise_it"):
        assert leaked not in response.text
    assert any(error["request_id"] in record.getMessage() for record in caplog.records)


def test_unexpected_exception_carries_the_request_id_header(engine):
    assert_error_shape(_unexpected_failure(engine), 500)


NAIVE = "2026-01-01T00:00:00"


def _as_m1(people: Cast, engine: Engine, method: str, path: str, **kwargs: Any) -> httpx2.Response:
    """M1's request on an app that renders server errors instead of raising them."""
    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        client.headers.update(people.http("M1").headers)
        return client.request(method, path.format(C1=people.clients["C1"]), **kwargs)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/clients", {"created_from": NAIVE}),
        ("/api/v1/clients/{C1}/timeline", {"before": NAIVE}),
    ],
    ids=["list-created_from", "timeline-before"],
)
def test_timestamp_filter_without_offset_is_invalid_input(people, engine, path, params):
    response = _as_m1(people, engine, "GET", path, params=params)
    assert [d["field"] for d in assert_error_shape(response, 422)["details"]] == list(params)


def test_consent_time_without_offset_is_invalid_input(people, engine):
    consent = {"purpose": "marketing_email", "granted": True, "method": "web_form"}
    response = _as_m1(
        people,
        engine,
        "POST",
        "/api/v1/clients/{C1}/consents",
        json={**consent, "occurred_at": NAIVE},
    )
    assert [d["field"] for d in assert_error_shape(response, 422)["details"]] == ["occurred_at"]
