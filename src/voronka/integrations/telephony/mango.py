"""Mango Office virtual PBX notifications: ``events/call`` and ``events/summary``.

Mango POSTs form fields ``vpbx_api_key``, ``sign`` and ``json`` to ``<address>/events/<kind>``
and signs them as ``sign = sha256(vpbx_api_key + json + vpbx_api_salt)`` in hex (Mango Office
VPBX API, "Уведомления ВАТС"; https://www.mango-office.ru/support/integratsiya_api/api/).
Only the ``json`` field is stored (the API key never reaches the database).

``events/call`` reports each leg's state (``Appeared`` → ringing, ``Connected`` → answered;
``OnHold`` and ``Disconnected`` change nothing we keep); ``events/summary`` closes the call
with its times and result. The call is identified by ``entry_id``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from voronka.activity.models import CallStatus, Direction
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
    same,
    text_field,
    unauthenticated,
    unix_time,
)
from voronka.integrations.telephony.models import CallPhase

PROCESSED = frozenset({"call", "summary"})
#: ``disconnect_reason`` codes Mango documents as "subscriber busy".
BUSY_REASONS = frozenset({1111, 1112, 1113, 1114, 1115})
OUTBOUND, INBOUND = 2, 1


def sign(api_key: str, json_text: str, salt: str) -> str:
    """Mango's ``sign`` of a ``json`` field."""
    return hashlib.sha256(f"{api_key}{json_text}{salt}".encode()).hexdigest()


def _form(request: RawRequest) -> dict[str, str]:
    return dict(parse_qsl(decode_utf8(request.body), keep_blank_values=True))


def _party(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise bad(name, "must be an object", value)
    return value


class MangoProvider:
    name = "mango"

    def verify(self, request: RawRequest, settings: Settings) -> None:
        key = require_secret(settings.hooks_mango_api_key, "Mango Office")
        salt = require_secret(settings.hooks_mango_api_salt, "Mango Office")
        form = _form(request)
        if not same(key, form.get("vpbx_api_key")):
            raise unauthenticated("vpbx_api_key is not this server's Mango Office key")
        if not same(sign(key, form.get("json", ""), salt), form.get("sign")):
            raise unauthenticated("sign does not match the json field")

    def identify(self, request: RawRequest) -> Delivery:
        kind = request.query.get("event", "")
        text = _form(request).get("json")
        if not text:
            raise bad("json", "required")
        data = load_json_object(text, field_name="json")
        entry_id = text_field(data, "entry_id")
        if kind == "call":
            external_id = f"call:{text_field(data, 'call_id')}:{int_field(data, 'seq', required=True)}"
        else:
            external_id = f"{kind}:{entry_id}:{data.get('seq', '')}"
        if kind not in PROCESSED:
            return Delivery(kind, external_id, text, handled=False)
        if kind == "summary":
            external_id = f"summary:{entry_id}"
        self._events(kind, data)  # validate before storing
        return Delivery(kind, external_id, text)

    def parse(self, kind: str, body: str, received_at: datetime) -> list[CallEvent]:
        if kind not in PROCESSED:
            return []
        return self._events(kind, load_json_object(body, field_name="json"))

    def _events(self, kind: str, data: dict[str, Any]) -> list[CallEvent]:
        return self._summary(data) if kind == "summary" else self._call(data)

    def _call(self, data: dict[str, Any]) -> list[CallEvent]:
        state = text_field(data, "call_state")
        at = unix_time(data, "timestamp")
        entry_id = text_field(data, "entry_id")
        assert at is not None and entry_id is not None
        source, target = _party(data, "from"), _party(data, "to")
        outbound = bool(text_field(source, "extension", required=False))
        common: dict[str, Any] = {
            "call_id": entry_id,
            "occurred_at": at,
            "direction": Direction.OUTBOUND if outbound else Direction.INBOUND,
            "caller": text_field(source, "number", required=False),
            "callee": text_field(target, "number", required=False),
            "extension": text_field(source if outbound else target, "extension", required=False),
        }
        if not outbound:
            common["tracking_number"] = text_field(target, "line_number", required=False)
        if state == "Appeared":
            return [CallEvent(phase=CallPhase.STARTED, started_at=at, **common)]
        if state == "Connected":
            return [CallEvent(phase=CallPhase.ANSWERED, answered_at=at, **common)]
        return []

    def _summary(self, data: dict[str, Any]) -> list[CallEvent]:
        entry_id = text_field(data, "entry_id")
        direction = int_field(data, "call_direction", required=True)
        assert entry_id is not None
        if direction not in (INBOUND, OUTBOUND):
            return []  # internal calls between extensions are not client calls
        created = unix_time(data, "create_time")
        ended = unix_time(data, "end_time")
        talk = unix_time(data, "talk_time", required=False)
        answered = int_field(data, "entry_result", required=True) == 1
        reason = int_field(data, "disconnect_reason")
        source, target = _party(data, "from"), _party(data, "to")
        outbound = direction == OUTBOUND
        status = (
            CallStatus.ANSWERED
            if answered
            else CallStatus.BUSY
            if reason in BUSY_REASONS
            else CallStatus.MISSED
        )
        assert created is not None and ended is not None
        return [
            CallEvent(
                phase=CallPhase.ENDED,
                call_id=entry_id,
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                occurred_at=ended,
                caller=text_field(source, "number", required=False),
                callee=text_field(target, "number", required=False),
                tracking_number=None
                if outbound
                else text_field(data, "line_number", required=False),
                extension=text_field(source if outbound else target, "extension", required=False),
                started_at=created,
                answered_at=talk if answered and talk and talk.timestamp() > 0 else None,
                ended_at=ended,
                status=status,
            )
        ]
