"""API shapes for activities: one input shape for every kind, and the rules of each kind.

One flat shape (rather than a union per kind) keeps every 422 pointing at a plain field name
(``direction``, not ``call.direction``) and lets updates be checked against the merged record.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voronka.activity.models import ActivityKind, CallStatus, Direction
from voronka.client.contact import normalize_or_invalid
from voronka.client.models import ContactKind
from voronka.config import get_settings
from voronka.errors import ErrorDetail, InvalidInput
from voronka.fields import AwareUTC, Strict, Text

#: Longest call (wait or talk) accepted, in seconds; longer values are a provider's mistake.
MAX_CALL_SECONDS = 7 * 24 * 3600


def check_https_url(value: str | None) -> str | None:
    """Accept only absolute ``https://host/...`` URLs (no ``javascript:``, ``data:``, ``http:``)."""
    if value is None:
        return None
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise ValueError("not a valid URL") from exc
    if parts.scheme.lower() != "https":
        raise ValueError("must be an https:// URL")
    if not host:
        raise ValueError("must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    return value


Phone = Annotated[Text | None, Field(min_length=1, max_length=40)]
Seconds = Annotated[int | None, Field(ge=0, le=MAX_CALL_SECONDS)]


class ActivityFields(Strict):
    """Fields that may be set on create and changed later; which apply depends on the kind."""

    client_id: int | None = None
    deal_id: int | None = Field(None, description="Must belong to `client_id`.")
    owner_id: int | None = None
    subject: Text | None = Field(None, max_length=300)
    body: Text | None = Field(None, max_length=100_000)
    occurred_at: AwareUTC | None = None
    direction: Direction | None = Field(None, description="Calls (required), e-mails, messages.")
    from_number: Phone = None
    to_number: Phone = None
    tracking_number: Phone = None
    queued_at: AwareUTC | None = Field(None, description="Calls: when it started ringing.")
    answered_at: AwareUTC | None = None
    ended_at: AwareUTC | None = None
    wait_seconds: Seconds = Field(None, description="Derived from timestamps when omitted.")
    talk_seconds: Seconds = Field(None, description="Derived from timestamps when omitted.")
    call_status: CallStatus | None = Field(None, description="Calls (required).")
    recording_url: str | None = Field(None, max_length=1000, description="https:// only.")
    due_at: AwareUTC | None = Field(None, description="Tasks (required).")
    remind_at: AwareUTC | None = Field(None, description="Tasks; not after `due_at`.")

    _url = field_validator("recording_url")(check_https_url)


class ActivityCreate(ActivityFields):
    kind: ActivityKind
    external_id: Text | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="Provider's id; posting the same kind and id again returns the stored row.",
    )


class ActivityUpdate(ActivityFields):
    """Fields to change; ``kind`` and ``external_id`` are fixed at creation."""


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ActivityKind
    client_id: int | None
    deal_id: int | None
    owner_id: int | None
    subject: str | None
    body: str | None
    occurred_at: datetime
    external_id: str | None
    direction: Direction | None
    from_number: str | None
    to_number: str | None
    tracking_number: str | None
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: int | None
    talk_seconds: int | None
    call_status: CallStatus | None
    recording_url: str | None
    due_at: datetime | None
    remind_at: datetime | None
    completed_at: datetime | None
    overdue: bool | None = Field(
        None, description="Tasks: open and due before now; null for other kinds."
    )
    created_at: datetime
    updated_at: datetime
    version: int


# Per-kind rules: which fields a kind uses, and what a call or a task must satisfy.

CALL_FIELDS = frozenset(
    {
        "direction",
        "from_number",
        "to_number",
        "tracking_number",
        "queued_at",
        "answered_at",
        "ended_at",
        "wait_seconds",
        "talk_seconds",
        "call_status",
        "recording_url",
    }
)
TASK_FIELDS = frozenset({"due_at", "remind_at"})
#: Fields only some kinds use; the rest (client, deal, owner, subject, body, time) fit all.
FIELDS_OF_KIND: dict[ActivityKind, frozenset[str]] = {
    ActivityKind.CALL: CALL_FIELDS,
    ActivityKind.EMAIL: frozenset({"direction"}),
    ActivityKind.MESSAGE: frozenset({"direction"}),
    ActivityKind.MEETING: frozenset(),
    ActivityKind.NOTE: frozenset(),
    ActivityKind.TASK: TASK_FIELDS,
}
PHONE_FIELDS = ("from_number", "to_number", "tracking_number")
#: Providers round durations differently; a given duration may differ this much from the clock.
DURATION_TOLERANCE_SECONDS = 1


def _misplaced(kind: ActivityKind, values: dict[str, Any]) -> list[ErrorDetail]:
    allowed = FIELDS_OF_KIND[kind]
    return [
        ErrorDetail(f"not used for {kind.value} activities", field=name)
        for name in sorted(CALL_FIELDS | TASK_FIELDS)
        if values.get(name) is not None and name not in allowed
    ]


def _order_problems(values: dict[str, Any]) -> list[ErrorDetail]:
    """Timestamps out of order: rang, then answered, then ended."""
    queued, answered, ended = (values.get(n) for n in ("queued_at", "answered_at", "ended_at"))
    pairs = [
        ("queued_at", queued, "answered_at", answered),
        ("answered_at", answered, "ended_at", ended),
    ]
    if answered is None:
        pairs.append(("queued_at", queued, "ended_at", ended))
    return [
        ErrorDetail(f"must not be before {first}", field=second)
        for first, early, second, late in pairs
        if early is not None and late is not None and late < early
    ]


def _call_problems(values: dict[str, Any]) -> list[ErrorDetail]:
    problems = [
        ErrorDetail("required for calls", field=name)
        for name in ("direction", "call_status")
        if values.get(name) is None
    ]
    status, answered_at = values.get("call_status"), values.get("answered_at")
    if status == CallStatus.ANSWERED and answered_at is None:
        problems.append(ErrorDetail("required for answered calls", field="answered_at"))
    if status not in (None, CallStatus.ANSWERED) and answered_at is not None:
        problems.append(ErrorDetail("only answered calls have an answer time", field="answered_at"))
    if status not in (None, CallStatus.ANSWERED) and values.get("talk_seconds") not in (None, 0):
        problems.append(
            ErrorDetail("must be 0 for calls that were not answered", field="talk_seconds")
        )
    return problems + _order_problems(values)


def _spans(values: dict[str, Any]) -> dict[str, tuple[datetime | None, datetime | None]]:
    """The timestamps each duration runs between; an unanswered caller waits until hang-up."""
    if values["call_status"] == CallStatus.ANSWERED:
        return {
            "wait_seconds": (values.get("queued_at"), values.get("answered_at")),
            "talk_seconds": (values.get("answered_at"), values.get("ended_at")),
        }
    return {"wait_seconds": (values.get("queued_at"), values.get("ended_at"))}


def _derive_durations(values: dict[str, Any]) -> list[ErrorDetail]:
    """Fill omitted wait/talk seconds from the timestamps; check given ones against them."""
    problems: list[ErrorDetail] = []
    if values["call_status"] != CallStatus.ANSWERED and values.get("talk_seconds") is None:
        values["talk_seconds"] = 0
    for name, (start, end) in _spans(values).items():
        if start is None or end is None:
            continue
        exact = (end - start).total_seconds()
        given = values.get(name)
        if given is None and exact > MAX_CALL_SECONDS:
            problems.append(ErrorDetail(f"longer than {MAX_CALL_SECONDS} seconds", field=name))
        elif given is None:
            values[name] = round(exact)
        elif abs(given - exact) > DURATION_TOLERANCE_SECONDS:
            problems.append(
                ErrorDetail(f"is {given} but the timestamps give {round(exact)}", field=name)
            )
    return problems


def _task_problems(values: dict[str, Any]) -> list[ErrorDetail]:
    due_at, remind_at = values.get("due_at"), values.get("remind_at")
    if due_at is None:
        return [ErrorDetail("required for tasks", field="due_at")]
    if remind_at is not None and remind_at > due_at:
        return [ErrorDetail("must not be after due_at", field="remind_at")]
    return []


def _normalise_phones(values: dict[str, Any]) -> list[ErrorDetail]:
    region = get_settings().default_phone_region
    problems: list[ErrorDetail] = []
    for name in PHONE_FIELDS:
        if values.get(name) is None:
            continue
        try:
            values[name] = normalize_or_invalid(
                ContactKind.PHONE, values[name], field=name, region=region
            )
        except InvalidInput as exc:
            problems += exc.details
    return problems


def check_kind_rules(kind: ActivityKind, values: dict[str, Any]) -> None:
    """Check ``values`` for an activity of ``kind``, normalising phones and deriving durations.

    Raises ``InvalidInput`` listing every problem, each naming its field.
    """
    problems = _misplaced(kind, values) + _normalise_phones(values)
    if kind is ActivityKind.CALL:
        call_problems = _call_problems(values)
        problems += call_problems or _derive_durations(values)
    elif kind is ActivityKind.TASK:
        problems += _task_problems(values)
    if problems:
        fields = ", ".join(dict.fromkeys(p.field or "" for p in problems))
        raise InvalidInput(f"invalid {kind.value} activity: {fields}", problems)
