"""One JSON error shape for every failure, expected or not.

``{"error": {"code", "message", "details": [{"field", "message", ...}], "request_id"}}``
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from voronka.errors import VoronkaError

log = logging.getLogger("voronka.web")

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    428: "precondition_required",
    429: "too_many_requests",
}


def error_body(
    request: Request, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or [],
            "request_id": getattr(request.state, "request_id", None),
        }
    }


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "")


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        where = err.get("loc", ())
        item: dict[str, Any] = {"field": _field_path(tuple(where)), "message": err.get("msg")}
        if where and where[0] in ("query", "path", "header"):
            item["in"] = where[0]
        details.append(item)
    return details


def integrity_problem(exc: IntegrityError) -> tuple[str, int, str]:
    """Classify a constraint violation without echoing database text to the client."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    text = str(exc.orig).lower()
    if sqlstate == "23505" or "unique" in text:
        return "conflict", 409, "a record with the same unique value already exists"
    if sqlstate == "23503" or "foreign key" in text:
        return "invalid_reference", 422, "a referenced record does not exist or is still in use"
    return "invalid_input", 422, "the values break a rule of the data model"


def install(app: FastAPI) -> None:
    """Register the handlers that render every error in the one shape."""

    @app.exception_handler(VoronkaError)
    async def voronka_error(request: Request, exc: VoronkaError) -> JSONResponse:
        details = [d.as_dict() for d in exc.details]
        return JSONResponse(error_body(request, exc.code, exc.message, details), exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        fields = ", ".join(sorted({d["field"] for d in details if d["field"]}))
        message = f"invalid input: {fields}" if fields else "invalid input"
        return JSONResponse(error_body(request, "invalid_input", message, details), 422)

    @app.exception_handler(StaleDataError)
    async def stale(request: Request, exc: StaleDataError) -> JSONResponse:
        message = "the record was changed by someone else; reload it and try again"
        return JSONResponse(error_body(request, "precondition_failed", message), 412)

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        code, status, message = integrity_problem(exc)
        log.info("integrity error in request %s: %s", request.state.request_id, exc.orig)
        return JSONResponse(error_body(request, code, message), status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(request, code, str(exc.detail)), exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None)
        log.exception("unhandled error in request %s", request_id)
        message = f"internal error; quote request id {request_id} to the administrator"
        # this handler runs outside the middleware that adds these headers to other responses
        headers = {
            "X-Request-ID": str(request_id),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }
        return JSONResponse(error_body(request, "internal_error", message), 500, headers=headers)
