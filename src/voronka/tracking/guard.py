"""Refusing bots and garbage before anything is stored: user agent, JavaScript signals,
payload shape. Every refusal is a 400 naming the field (or header) at fault.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from voronka.errors import BadRequest, ErrorDetail, Forbidden

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Agents that announce themselves as programs: crawlers, monitors, HTTP libraries,
#: headless browsers, link previewers. Compared case-insensitively anywhere in the header.
BOT_AGENT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrap|headless|phantomjs|selenium|puppeteer|playwright|"
    r"lighthouse|pingdom|uptime|monitor|preview|facebookexternalhit|python-|curl/|wget/|"
    r"httpie|okhttp|go-http-client|java/|libwww|axios/|node-fetch|undici|aiohttp|httpx",
    re.IGNORECASE,
)
MAX_PAYLOAD_BYTES = 16 * 1024


#: Parts of a pydantic error location that name a type of a union, not a field.
_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "none", "dict", "list"})


def field_path(loc: tuple[Any, ...]) -> str:
    """``signals.screen`` from a pydantic error location (union type tags dropped)."""
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p in _TYPE_TAGS or "[" in p))]
    return ".".join(parts) or "body"


def _bad(field: str, message: str, value: Any = None) -> BadRequest:
    return BadRequest(f"{field}: {message}", [ErrorDetail(message, field=field, value=value)])


def check_agent(user_agent: str | None) -> None:
    """Refuse requests without a browser's user agent."""
    if not user_agent or len(user_agent) < 10:
        raise _bad("User-Agent", "a browser user agent is required")
    if len(user_agent) > 1000:
        raise _bad("User-Agent", "too long")
    if BOT_AGENT.search(user_agent):
        raise _bad("User-Agent", "automated clients are not tracked")


def parse(body: bytes, model: type[ModelT]) -> ModelT:
    """Parse a JSON body (sent as text/plain by the snippet) into ``model`` or raise 400."""
    if len(body) > MAX_PAYLOAD_BYTES:
        raise _bad("body", f"larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad("body", f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _bad("body", "must be a JSON object")
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        details = list(
            {field_path(e["loc"]): ErrorDetail(str(e["msg"]), field=field_path(e["loc"]))
             for e in exc.errors()}.values()
        )
        fields = ", ".join(sorted({d.field or "" for d in details}))
        raise BadRequest(f"invalid tracker payload: {fields}", details) from exc
    signals = getattr(parsed, "signals", None)
    if signals is not None and signals.webdriver:
        raise _bad("signals.webdriver", "automated browsers are not tracked")
    return parsed


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased; ``None`` when not one."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def check_page_url(url: str, field: str = "url") -> str:
    """The page's origin; refuse what is not an absolute http(s) URL."""
    origin = origin_of(url)
    if origin is None:
        raise _bad(field, "must be an absolute http(s) URL")
    return origin


def check_origin(allowed: list[str], origin_header: str | None, page_origin: str) -> None:
    """Refuse pages (and browsers' Origin headers) outside the site's allowed origins."""
    if not allowed:
        return
    permitted = {a.rstrip("/").lower() for a in allowed}
    if page_origin not in permitted:
        raise Forbidden(
            "url: this page is not on an allowed origin of the site",
            [ErrorDetail("origin not allowed", field="url", value=page_origin)],
        )
    if origin_header is not None and origin_header.rstrip("/").lower() not in permitted:
        raise Forbidden(
            "Origin: this origin is not allowed for the site",
            [ErrorDetail("origin not allowed", field="Origin", value=origin_header[:300])],
        )
