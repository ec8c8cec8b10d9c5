"""What a telephony provider module does, and the call event every provider is parsed into.

A provider module verifies a request (:meth:`TelephonyProvider.verify`), names the delivery
(:meth:`TelephonyProvider.identify`: event kind, provider event id, the body to store) and
parses a stored body into :class:`CallEvent` values (:meth:`TelephonyProvider.parse`). The
receiver (``integrations.telephony.receiver``) runs them in that order and stores the raw
event before any processing; the job (``integrations.telephony.process``) turns call events
into clients, deals, activities and touchpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import SecretStr

from voronka.activity.models import CallStatus, Direction
from voronka.config import Settings
from voronka.errors import BadRequest, ErrorDetail, NotAuthenticated
from voronka.integrations.telephony.models import CallPhase

#: Largest nesting accepted in a JSON webhook body (deeper bodies are refused, not parsed).
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class RawRequest:
    """An HTTP request as received: lower-case header names, the body bytes, query values."""

    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)
    content_type: str = ""


@dataclass(frozen=True)
class Delivery:
    """What a request is: the provider's event kind and id, and the text to store."""

    kind: str
    external_id: str
    body: str
    handled: bool = True  # False: a kind we acknowledge and log as ignored


@dataclass(frozen=True)
class CallEvent:
    """One normalised telephony event of one call.

    ``caller`` is who rang (the client on inbound calls, the manager's line on outbound);
    ``callee`` who was rung. ``client_number`` is the outside party. ``tracking_number`` is
    the company number the client dialled (inbound). ``status`` is final only on ``ENDED``
    events. ``extension`` is the manager's internal line, when the provider says.
    """

    phase: CallPhase
    call_id: str
    direction: Direction
    occurred_at: datetime
    caller: str | None = None
    callee: str | None = None
    tracking_number: str | None = None
    extension: str | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: int | None = None
    talk_seconds: int | None = None
    status: CallStatus | None = None
    recording_url: str | None = None

    @property
    def client_number(self) -> str | None:
        return self.caller if self.direction is Direction.INBOUND else self.callee


class TelephonyProvider(Protocol):
    """One telephony provider: verification, identification and parsing of its webhooks."""

    name: str

    def verify(self, request: RawRequest, settings: Settings) -> None:
        """Raise ``NotAuthenticated`` unless the request is signed by the configured secret."""

    def identify(self, request: RawRequest) -> Delivery:
        """Return the delivery, or raise ``BadRequest`` naming the missing or wrong field."""

    def parse(self, kind: str, body: str, received_at: datetime) -> list[CallEvent]:
        """Turn a stored body into call events (empty for kinds that carry no call change).

        ``received_at`` stands in for the event time of providers that send none.
        """


def bad(field_name: str, message: str, value: Any = None) -> BadRequest:
    """A 400 naming the field of the payload that is wrong."""
    shown = value if value is None or isinstance(value, int | float) else str(value)[:100]
    return BadRequest(f"{field_name}: {message}", [ErrorDetail(message, field=field_name, value=shown)])


def unauthenticated(message: str) -> NotAuthenticated:
    return NotAuthenticated(message)


def require_secret(secret: SecretStr | None, provider: str) -> str:
    """The configured secret, or 401 when the provider is not set up (never accept unsigned)."""
    value = secret.get_secret_value() if secret is not None else ""
    if not value:
        raise unauthenticated(f"{provider} webhooks are not configured on this server")
    return value


def same(expected: str, given: str | None) -> bool:
    """Compare signatures in constant time."""
    return given is not None and hmac.compare_digest(expected.encode(), given.strip().encode())


def decode_utf8(body: bytes) -> str:
    """The body as text, or 400 when it is not UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad("body", "not UTF-8 text") from exc


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def load_json_object(text: str, *, field_name: str = "body") -> dict[str, Any]:
    """Parse a JSON object, refusing other JSON values and absurd nesting with a 400."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise bad(field_name, f"nested deeper than {MAX_JSON_DEPTH} levels") from exc
    except ValueError as exc:
        raise bad(field_name, "not valid JSON") from exc
    if not isinstance(value, dict):
        raise bad(field_name, "must be a JSON object")
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise bad(field_name, f"nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def text_field(
    data: Mapping[str, Any], name: str, *, required: bool = True, max_length: int = 200
) -> str | None:
    """A non-empty string (numbers are accepted as their text) or 400 naming ``name``."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise bad(name, "required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad(name, "must be a string", value)
    text = str(value).strip()
    if len(text) > max_length:
        raise bad(name, f"longer than {max_length} characters", text)
    return text


def int_field(data: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    """A whole number ≥ 0 (digits in a string accepted) or 400 naming ``name``."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise bad(name, "required")
        return None
    if isinstance(value, bool):
        raise bad(name, "must be a whole number", value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 0 or value > 10**10:
        raise bad(name, "must be a whole number ≥ 0", value)
    return value


def unix_time(data: Mapping[str, Any], name: str, *, required: bool = True) -> datetime | None:
    """A Unix timestamp in seconds as an aware UTC datetime, or 400 naming ``name``."""
    seconds = int_field(data, name, required=required)
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


SIGNATURE_HEADER = "x-voronka-signature"


def timestamped_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Voronka-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac_sha256_hex(secret, f"{timestamp}.".encode() + body)
    return f"t={timestamp},v1={digest}"


def verify_timestamped(
    request: RawRequest, secret: str, *, now: datetime, tolerance_seconds: int
) -> None:
    """Check ``X-Voronka-Signature: t=<unix>,v1=<hex>`` (HMAC-SHA256 of ``t.body``).

    The timestamp must be within ``tolerance_seconds`` of ``now`` either way, so a captured
    request cannot be replayed later; the comparison is constant-time.
    """
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise unauthenticated("missing X-Voronka-Signature header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1")
    if not stamp.isdigit() or given is None:
        raise unauthenticated("X-Voronka-Signature must look like t=<unix seconds>,v1=<hex>")
    if abs(now.timestamp() - int(stamp)) > tolerance_seconds:
        raise unauthenticated(
            f"X-Voronka-Signature timestamp is more than {tolerance_seconds} s from server time"
        )
    expected = hmac_sha256_hex(secret, f"{stamp}.".encode() + request.body)
    if not same(expected, given):
        raise unauthenticated("X-Voronka-Signature does not match the body")
