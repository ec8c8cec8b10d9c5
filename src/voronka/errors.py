"""The error base: every expected failure has a stable code and an HTTP status.

The web layer renders all of them in one JSON shape::

    {"error": {"code": "...", "message": "...", "details": [{"field": "...", "message": "..."}]}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class ErrorDetail:
    """One problem with one input: where (field, row) and what."""

    message: str
    field: str | None = None
    row: int | None = None
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.row is not None:
            out["row"] = self.row
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass
class VoronkaError(Exception):
    """Base of every error a user can cause; subclasses fix ``code`` and ``status``."""

    message: str
    details: list[ErrorDetail] = field(default_factory=list)
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __str__(self) -> str:
        return self.message


class InvalidInput(VoronkaError):
    code = "invalid_input"
    status = 422


class BadRequest(VoronkaError):
    code = "bad_request"
    status = 400


class NotAuthenticated(VoronkaError):
    code = "not_authenticated"
    status = 401


class Forbidden(VoronkaError):
    code = "forbidden"
    status = 403


class NotFound(VoronkaError):
    """Also used for records the caller may not know exist (no leak of existence)."""

    code = "not_found"
    status = 404


class Conflict(VoronkaError):
    code = "conflict"
    status = 409


class PreconditionFailed(VoronkaError):
    """The record changed since the caller read it (stale ETag / version)."""

    code = "precondition_failed"
    status = 412


class PreconditionRequired(VoronkaError):
    code = "precondition_required"
    status = 428


class PayloadTooLarge(VoronkaError):
    code = "payload_too_large"
    status = 413


class TransitionNotAllowed(VoronkaError):
    code = "transition_not_allowed"
    status = 409


ALL_ERRORS: tuple[type[VoronkaError], ...] = (
    InvalidInput,
    BadRequest,
    NotAuthenticated,
    Forbidden,
    NotFound,
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    PayloadTooLarge,
    TransitionNotAllowed,
)
