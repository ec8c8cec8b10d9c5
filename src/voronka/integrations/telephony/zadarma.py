"""Zadarma PBX notifications (``NOTIFY_START``, ``NOTIFY_INTERNAL``, ``NOTIFY_ANSWER``,
``NOTIFY_END``, ``NOTIFY_OUT_START``, ``NOTIFY_OUT_END``; others are logged as ignored).

Zadarma POSTs form fields and signs them with the account's API secret: the ``Signature``
header is ``base64(hex(HMAC-SHA1(secret, fields)))`` where *fields* is a concatenation that
depends on the event (Zadarma's user-api-v1, ``lib/Webhook/Notify*.php``
``getSignatureString``). ``call_start`` is a local time of the account's time zone
(``VORONKA_TIMEZONE``). Before sending events Zadarma checks the address with
``GET ?zd_echo=<value>``, which must answer the value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from voronka import clock
from voronka.activity.models import CallStatus, Direction
from voronka.config import Settings, get_settings
from voronka.integrations.telephony.base import (
    CallEvent,
    Delivery,
    RawRequest,
    bad,
    decode_utf8,
    int_field,
    require_secret,
    same,
    text_field,
    unauthenticated,
)
from voronka.integrations.telephony.models import CallPhase

#: Fields concatenated into the signed string, per event.
SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_IVR": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
PROCESSED = frozenset(SIGNED_FIELDS) - {"NOTIFY_IVR", "NOTIFY_RECORD"}
#: Events that can come more than once per call (one per extension rung or answering).
PER_EXTENSION = frozenset({"NOTIFY_INTERNAL", "NOTIFY_ANSWER"})
DISPOSITIONS = {
    "answered": CallStatus.ANSWERED,
    "busy": CallStatus.BUSY,
    "cancel": CallStatus.MISSED,
    "no answer": CallStatus.MISSED,
}


def signature(secret: str, fields: Mapping[str, str], event: str) -> str:
    """The ``Signature`` header Zadarma sends for ``fields`` of ``event``."""
    signed = "".join(fields.get(name, "") for name in SIGNED_FIELDS[event])
    hex_digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hex_digest.encode()).decode()


def _fields(body: str) -> dict[str, str]:
    return dict(parse_qsl(body, keep_blank_values=True))


def _local_time(fields: Mapping[str, str], name: str) -> datetime:
    text = text_field(fields, name)
    assert text is not None
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise bad(name, "must look like 2026-11-20 10:15:00", text) from exc
    return naive.replace(tzinfo=ZoneInfo(get_settings().timezone))


class ZadarmaProvider:
    name = "zadarma"

    def verify(self, request: RawRequest, settings: Settings) -> None:
        secret = require_secret(settings.hooks_zadarma_secret, "Zadarma")
        fields = _fields(decode_utf8(request.body))
        event = fields.get("event", "")
        if event not in SIGNED_FIELDS:
            raise unauthenticated(f"cannot verify the signature of Zadarma event {event[:40]!r}")
        if not same(signature(secret, fields, event), request.headers.get("signature")):
            raise unauthenticated("Signature header does not match the notification")

    def identify(self, request: RawRequest) -> Delivery:
        body = decode_utf8(request.body)
        fields = _fields(body)
        event = text_field(fields, "event")
        assert event is not None
        call_id = text_field(fields, "pbx_call_id", required=event != "NOTIFY_RECORD") or ""
        external_id = f"{event}:{call_id or fields.get('call_id_with_rec', '')}"
        if event in PER_EXTENSION:
            external_id += f":{fields.get('internal', '')}"
        if event not in PROCESSED:
            return Delivery(event, external_id, body, handled=False)
        self.parse(event, body, clock.now())  # validate before storing
        return Delivery(event, external_id, body)

    def parse(self, kind: str, body: str, received_at: datetime) -> list[CallEvent]:
        if kind not in PROCESSED:
            return []
        fields = _fields(body)
        started_at = _local_time(fields, "call_start")
        call_id = text_field(fields, "pbx_call_id")
        assert call_id is not None
        outbound = kind.startswith("NOTIFY_OUT")
        common: dict[str, Any] = {
            "call_id": call_id,
            "direction": Direction.OUTBOUND if outbound else Direction.INBOUND,
            "started_at": started_at,
            "extension": text_field(fields, "internal", required=False),
        }
        if outbound:
            common["callee"] = text_field(fields, "destination")
            common["caller"] = text_field(fields, "caller_id", required=False)
        else:
            common["caller"] = text_field(fields, "caller_id")
            common["tracking_number"] = text_field(fields, "called_did", required=False)
        if kind in ("NOTIFY_START", "NOTIFY_INTERNAL", "NOTIFY_OUT_START"):
            return [CallEvent(phase=CallPhase.STARTED, occurred_at=started_at, **common)]
        if kind == "NOTIFY_ANSWER":
            return [
                CallEvent(
                    phase=CallPhase.ANSWERED,
                    occurred_at=received_at,
                    answered_at=received_at,
                    **common,
                )
            ]
        return [self._ended(fields, received_at, common)]

    def _ended(
        self, fields: Mapping[str, str], received_at: datetime, common: dict[str, Any]
    ) -> CallEvent:
        disposition = text_field(fields, "disposition")
        assert disposition is not None
        status = DISPOSITIONS.get(disposition.lower(), CallStatus.FAILED)
        duration = int_field(fields, "duration", required=True) or 0
        answered = status is CallStatus.ANSWERED
        return CallEvent(
            phase=CallPhase.ENDED,
            occurred_at=received_at,
            ended_at=received_at,
            talk_seconds=duration if answered else 0,
            status=status,
            **common,
        )
