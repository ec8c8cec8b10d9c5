"""Optimistic concurrency over HTTP: ETag out, If-Match in (mandatory on writes)."""

from __future__ import annotations

from fastapi import Request, Response

from voronka.errors import PreconditionFailed, PreconditionRequired


def etag_of(record_id: int, version: int) -> str:
    return f'"{record_id}-{version}"'


def set_etag(response: Response, record_id: int, version: int) -> None:
    response.headers["ETag"] = etag_of(record_id, version)


def require_match(request: Request, record_id: int, version: int) -> None:
    """Refuse a write unless ``If-Match`` names the record's current version."""
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired(
            "send If-Match with the ETag you read, so changes by others are not overwritten"
        )
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" not in tags and etag_of(record_id, version) not in tags:
        raise PreconditionFailed(
            "the record was changed by someone else since you read it; reload and try again"
        )
