"""``GET /t.js``: the site tracker snippet, shipped inside the package (no third-party code)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Request, Response

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def script() -> tuple[bytes, str]:
    """The snippet's bytes and their ETag."""
    data = resources.files("voronka.tracking").joinpath("static/t.js").read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


@router.get("/t.js")
def tracker_script(request: Request) -> Response:
    data, etag = script()
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=3600",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="text/javascript; charset=utf-8", headers=headers)
