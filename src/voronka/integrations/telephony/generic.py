"""The documented generic JSON format, for PBXs and call-tracking services we have no module for.

One JSON object per request, signed with ``X-Voronka-Signature`` (see docs/integrations.md)::

    {"event_id": "evt-1", "event": "call.ended", "call_id": "c-1", "direction": "inbound",
     "occurred_at": "2026-11-20T10:20:00Z", "caller": "+79991234567",
     "callee": "+74950000001", "tracking_number": "+74950000001", "extension": "101",
     "started_at": "…", "answered_at": "…", "ended_at": "…", "wait_seconds": 12,
     "talk_seconds": 288, "status": "answered", "recording_url": "https://…"}

Unknown fields are ignored; an unknown ``event`` is acknowledged and logged as ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from voronka import clock
from voronka.activity.models import CallStatus, Direction
from voronka.activity.schemas import check_https_url
from voronka.config import Settings
from voronka.integrations.telephony.base import (
    CallEvent,
    Delivery,
    RawRequest,
    bad,
    decode_utf8,
    int_field,
    load_json_object,
    require_secret,
    text_field,
    verify_timestamped,
)
from voronka.integrations.telephony.models import CallPhase

PHASES = {
    "call.started": CallPhase.STARTED,
    "call.answered": CallPhase.ANSWERED,
    "call.ended": CallPhase.ENDED,
}


def _time(data: dict[str, Any], name: str, *, required: bool = False) -> datetime | None:
    text = text_field(data, name, required=required)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise bad(name, "must be an ISO 8601 date-time", text) from exc
    if value.tzinfo is None:
        raise bad(name, "must carry a UTC offset (e.g. Z or +03:00)", text)
    return value


def _choice(data: dict[str, Any], name: str, enum: type[Any], *, required: bool) -> Any:
    text = text_field(data, name, required=required)
    if text is None:
        return None
    try:
        return enum(text)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in enum)
        raise bad(name, f"must be one of {allowed}", text) from exc


def _recording_url(data: dict[str, Any]) -> str | None:
    """An ``https://`` URL or 400: never a ``javascript:``/``data:`` link shown to users."""
    text = text_field(data, "recording_url", required=False, max_length=1000)
    try:
        return check_https_url(text)
    except ValueError as exc:
        raise bad("recording_url", str(exc), text) from exc


class GenericProvider:
    name = "generic"

    def verify(self, request: RawRequest, settings: Settings) -> None:
        secret = require_secret(settings.hooks_generic_secret, "generic telephony")
        verify_timestamped(
            request,
            secret,
            now=clock.now(),
            tolerance_seconds=settings.hooks_signature_tolerance_seconds,
        )

    def identify(self, request: RawRequest) -> Delivery:
        body = decode_utf8(request.body)
        data = load_json_object(body)
        kind = text_field(data, "event")
        event_id = text_field(data, "event_id")
        assert kind is not None and event_id is not None
        if kind not in PHASES:
            return Delivery(kind, event_id, body, handled=False)
        self._event(kind, data)  # validate before anything is stored
        return Delivery(kind, event_id, body)

    def parse(self, kind: str, body: str, received_at: datetime) -> list[CallEvent]:
        if kind not in PHASES:
            return []
        return [self._event(kind, load_json_object(body))]

    def _event(self, kind: str, data: dict[str, Any]) -> CallEvent:
        call_id = text_field(data, "call_id")
        assert call_id is not None
        occurred_at = _time(data, "occurred_at", required=True)
        assert occurred_at is not None
        phase = PHASES[kind]
        return CallEvent(
            phase=phase,
            call_id=call_id,
            direction=_choice(data, "direction", Direction, required=True),
            occurred_at=occurred_at,
            caller=text_field(data, "caller", required=False),
            callee=text_field(data, "callee", required=False),
            tracking_number=text_field(data, "tracking_number", required=False),
            extension=text_field(data, "extension", required=False),
            started_at=_time(data, "started_at"),
            answered_at=_time(data, "answered_at"),
            ended_at=_time(data, "ended_at"),
            wait_seconds=int_field(data, "wait_seconds"),
            talk_seconds=int_field(data, "talk_seconds"),
            status=_choice(data, "status", CallStatus, required=phase is CallPhase.ENDED),
            recording_url=_recording_url(data),
        )
