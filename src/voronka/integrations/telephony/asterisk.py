"""Asterisk: AMI events forwarded as JSON, and CDR files (``cdr_csv``'s ``Master.csv``).

**AMI events.** A small forwarder on the PBX (an AMI client) POSTs each event as one JSON
object with AMI's own field names, signed with ``X-Voronka-Signature``. We use
``Newchannel`` of the call's first channel (``Uniqueid == Linkedid``: the call started),
``DialBegin`` (an extension is rung), ``DialEnd`` with ``DialStatus: ANSWER`` (answered) and
``Hangup`` of the first channel (ended; ``Cause`` 17 is busy). ``Timestamp`` (AMI's
``timestampevents = yes``) is required. Other events are logged as ignored.

**CDR.** ``cdr_csv`` writes one row per call, without a header, in the column order of
:data:`CDR_COLUMNS`; times are the PBX's local time (``VORONKA_TIMEZONE``). A file with a
header row naming these columns is read too.

A number of at most :data:`EXTENSION_MAX_DIGITS` digits is an internal extension: a call
from one is outbound.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from voronka import clock
from voronka.activity.models import CallStatus, Direction
from voronka.config import Settings, get_settings
from voronka.errors import ErrorDetail, InvalidInput
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

EXTENSION_MAX_DIGITS = 5
AMI_EVENTS = frozenset({"Newchannel", "DialBegin", "DialEnd", "Hangup"})
BUSY_CAUSE = 17
CDR_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
    "uniqueid", "userfield",
)  # fmt: skip
CDR_REQUIRED = ("src", "dst", "start", "end", "disposition", "uniqueid")
DISPOSITIONS = {
    "ANSWERED": CallStatus.ANSWERED,
    "NO ANSWER": CallStatus.MISSED,
    "BUSY": CallStatus.BUSY,
    "FAILED": CallStatus.FAILED,
    "CONGESTION": CallStatus.FAILED,
}
CHANNEL_PEER = re.compile(r"^[A-Za-z0-9]+/([^-@;]+)")


def is_extension(number: str | None) -> bool:
    return number is not None and number.isdigit() and len(number) <= EXTENSION_MAX_DIGITS


def _stamp(data: Mapping[str, Any]) -> datetime:
    value = data.get("Timestamp")
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise bad("Timestamp", "required: AMI event time in Unix seconds", value) from exc
    if not 0 < seconds < 1e11:
        raise bad("Timestamp", "out of range", value)
    return datetime.fromtimestamp(seconds, UTC)


class AsteriskProvider:
    name = "asterisk"

    def verify(self, request: RawRequest, settings: Settings) -> None:
        secret = require_secret(settings.hooks_asterisk_secret, "Asterisk")
        verify_timestamped(
            request,
            secret,
            now=clock.now(),
            tolerance_seconds=settings.hooks_signature_tolerance_seconds,
        )

    def identify(self, request: RawRequest) -> Delivery:
        body = decode_utf8(request.body)
        data = load_json_object(body)
        event = text_field(data, "Event")
        unique = text_field(data, "Uniqueid")
        external_id = f"{event}:{unique}:{data.get('DestUniqueid', '')}"
        if event not in AMI_EVENTS:
            return Delivery(event or "", external_id, body, handled=False)
        self._ami(event, data)  # validate before storing
        return Delivery(event, external_id, body)

    def parse(self, kind: str, body: str, received_at: datetime) -> list[CallEvent]:
        data = load_json_object(body)
        if kind == "cdr":
            return [cdr_event(data)]
        return self._ami(kind, data) if kind in AMI_EVENTS else []

    def _ami(self, event: str, data: dict[str, Any]) -> list[CallEvent]:
        at = _stamp(data)
        linked = text_field(data, "Linkedid")
        unique = text_field(data, "Uniqueid")
        assert linked is not None
        first_channel = unique == linked
        caller = text_field(data, "CallerIDNum", required=False)
        outbound = is_extension(caller)
        common: dict[str, Any] = {
            "call_id": linked,
            "occurred_at": at,
            "direction": Direction.OUTBOUND if outbound else Direction.INBOUND,
            "caller": caller,
        }
        if event == "Newchannel" and first_channel:
            dialled = text_field(data, "Exten", required=False)
            extra: dict[str, Any] = {"callee": dialled,
                                     "extension": caller if outbound else None}
            if not outbound:
                extra["tracking_number"] = dialled
            return [CallEvent(phase=CallPhase.STARTED, started_at=at, **common, **extra)]
        if event == "DialBegin" and not outbound:
            extension = text_field(data, "DestCallerIDNum")
            return [CallEvent(phase=CallPhase.STARTED, extension=extension, **common)]
        if event == "DialEnd" and text_field(data, "DialStatus") == "ANSWER":
            extension = None if outbound else text_field(data, "DestCallerIDNum")
            return [
                CallEvent(phase=CallPhase.ANSWERED, answered_at=at, extension=extension, **common)
            ]
        if event == "Hangup" and first_channel:
            cause = int_field(data, "Cause")
            status = CallStatus.BUSY if cause == BUSY_CAUSE else None
            return [CallEvent(phase=CallPhase.ENDED, ended_at=at, status=status, **common)]
        return []


@dataclass(frozen=True)
class CdrRow:
    """One CDR row as stored in the inbound log (JSON of its named columns)."""

    number: int
    uniqueid: str
    body: str


def _local(text: str, field_name: str, row: int, tz: ZoneInfo) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"{field_name}: must look like 2026-11-20 10:15:00") from exc


def cdr_event(data: Mapping[str, Any]) -> CallEvent:
    """The ended-call event of one CDR row (``data``: column name → text)."""
    tz = ZoneInfo(get_settings().timezone)
    src, dst = data.get("src") or None, data.get("dst") or None
    outbound = is_extension(src)
    peer = CHANNEL_PEER.match(data.get("dstchannel") or "")
    answer_text = data.get("answer") or ""
    status = DISPOSITIONS[data["disposition"]]
    start = _local(data["start"], "start", 0, tz)
    end = _local(data["end"], "end", 0, tz)
    answered = (
        _local(answer_text, "answer", 0, tz)
        if status is CallStatus.ANSWERED and answer_text
        else None
    )
    return CallEvent(
        phase=CallPhase.ENDED,
        call_id=data["uniqueid"],
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        occurred_at=end,
        caller=src,
        callee=dst,
        tracking_number=None if outbound or is_extension(dst) else dst,
        extension=src if outbound else (peer.group(1) if peer else None),
        started_at=start,
        answered_at=answered,
        ended_at=end,
        talk_seconds=int(data["billsec"]) if status is CallStatus.ANSWERED and data.get("billsec") else None,
        status=status,
    )


def _check_row(values: dict[str, str], number: int) -> list[ErrorDetail]:
    problems = [
        ErrorDetail("required", field=name, row=number)
        for name in CDR_REQUIRED
        if not values.get(name)
    ]
    if problems:
        return problems
    if values["disposition"] not in DISPOSITIONS:
        allowed = ", ".join(DISPOSITIONS)
        problems.append(
            ErrorDetail(f"must be one of {allowed}", field="disposition", row=number,
                        value=values["disposition"][:40])
        )
    for name in ("duration", "billsec"):
        if values.get(name) and not values[name].isdigit():
            problems.append(ErrorDetail("must be a whole number", field=name, row=number,
                                        value=values[name][:40]))
    if not problems:
        try:
            cdr_event(values)
        except ValueError as exc:
            name = str(exc).split(":", 1)[0]
            problems.append(ErrorDetail(str(exc).split(": ", 1)[-1], field=name, row=number))
    return problems


def read_cdr(text: str) -> list[CdrRow]:
    """Parse a whole CDR file, or raise ``InvalidInput`` naming every bad row and column.

    Nothing is returned unless every row is valid, so an import is all or nothing.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    start = 1 if rows and rows[0] and rows[0][0].strip().lower() == "accountcode" else 0
    header = [c.strip().lower() for c in rows[0]] if start else list(CDR_COLUMNS)
    parsed: list[CdrRow] = []
    problems: list[ErrorDetail] = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        row_problems = _check_row(values, number)
        problems += row_problems
        if not row_problems:
            kept = {k: v for k, v in values.items() if k in CDR_COLUMNS}
            parsed.append(CdrRow(number, values["uniqueid"], json.dumps(kept, ensure_ascii=False)))
    if problems:
        raise InvalidInput(f"the CDR file has {len(problems)} problem(s); nothing was imported", problems[:100])
    if not parsed:
        raise InvalidInput("the CDR file has no rows", [ErrorDetail("empty", field="file")])
    return parsed
