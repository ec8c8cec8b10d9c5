"""Checks of a form submission before anything is stored: shape, spam traps, signature.

* Browser forms get a fill-time token from ``GET /api/v1/forms/<key>`` (the time it was
  issued, signed with the form's hidden ``token_key``); a submission sooner than
  ``min_fill_seconds`` after it, or with the honeypot field filled, is spam: acknowledged
  like any other (so bots learn nothing) and counted, but no client or deal is made.
* Forms with a ``secret`` accept only server-side submissions signed
  ``X-Voronka-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
  within ``form_signature_tolerance_seconds`` of the server clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError

from voronka.client.contact import normalize_email, normalize_phone
from voronka.client.models import ConsentPurpose
from voronka.config import get_settings
from voronka.errors import BadRequest, ErrorDetail, InvalidInput, NotAuthenticated
from voronka.lead.models import LeadForm
from voronka.lead.schemas import FieldKind, FormField, Submission
from voronka.tracking.guard import field_path

#: A fill token older than this is refused (the page was open for more than a day).
TOKEN_LIFETIME = timedelta(hours=24)
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class CleanFields:
    """The submitted values, checked and normalised."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    texts: dict[str, str] = field(default_factory=dict)
    consents: tuple[ConsentPurpose, ...] = ()


def _bad(field_name: str, message: str) -> BadRequest:
    return BadRequest(f"{field_name}: {message}", [ErrorDetail(message, field=field_name)])


def parse_body(body: bytes) -> Submission:
    """The JSON submission, or a 400 naming the field at fault."""
    if len(body) > MAX_BODY_BYTES:
        raise _bad("body", f"larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad("body", f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _bad("body", "must be a JSON object")
    try:
        return Submission.model_validate(data)
    except ValidationError as exc:
        details = list(
            {field_path(e["loc"]): ErrorDetail(str(e["msg"]), field=field_path(e["loc"]))
             for e in exc.errors()}.values()
        )
        fields = ", ".join(sorted({d.field or "" for d in details}))
        raise BadRequest(f"invalid submission: {fields}", details) from exc


def _text(value: object) -> str:
    return "" if value is None or value is False else str(value).strip()


def _one(spec: FormField, raw: object, problems: list[ErrorDetail]) -> str | bool | None:
    where = f"fields.{spec.name}"
    if spec.kind is FieldKind.CONSENT:
        return raw in (True, "true", "on", "1", 1, "yes")
    value = _text(raw)
    if "\x00" in value:
        problems.append(ErrorDetail("must not contain NUL characters", field=where))
        return None
    if not value:
        return None
    if len(value) > spec.max_length:
        problems.append(ErrorDetail(f"at most {spec.max_length} characters", field=where))
        return None
    try:
        if spec.kind is FieldKind.PHONE:
            return normalize_phone(value, region=get_settings().default_phone_region)
        if spec.kind is FieldKind.EMAIL:
            return normalize_email(value)
    except ValueError as exc:
        problems.append(ErrorDetail(str(exc), field=where, value=value[:100]))
        return None
    return value


def clean_fields(form: LeadForm, submission: Submission) -> CleanFields:
    """Check every field against the form's definition; one 422 lists every problem."""
    specs = [FormField.model_validate(f) for f in form.fields]
    known = {s.name for s in specs} | {form.honeypot_field}
    problems = [
        ErrorDetail("not a field of this form", field=f"fields.{name}")
        for name in submission.fields
        if name not in known
    ]
    out: dict[str, object] = {}
    texts: dict[str, str] = {}
    consents: list[ConsentPurpose] = []
    for spec in specs:
        value = _one(spec, submission.fields.get(spec.name), problems)
        if spec.required and value in (None, False):
            problems.append(ErrorDetail("required", field=f"fields.{spec.name}"))
        if value in (None, False):
            continue
        if spec.kind is FieldKind.CONSENT and spec.purpose is not None:
            consents.append(spec.purpose)
        elif spec.kind is FieldKind.TEXT:
            texts[spec.label or spec.name] = str(value)
        else:
            out.setdefault(spec.kind.value, value)
    if not problems and not (out.get("phone") or out.get("email")):
        problems.append(ErrorDetail("give a phone or an e-mail", field="fields"))
    if problems:
        names = ", ".join(dict.fromkeys(p.field or "" for p in problems))
        raise InvalidInput(f"invalid form submission: {names}", problems)
    return CleanFields(
        name=_str_or_none(out.get("name")),
        phone=_str_or_none(out.get("phone")),
        email=_str_or_none(out.get("email")),
        texts=texts,
        consents=tuple(consents),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


# -- fill-time tokens -------------------------------------------------------------------------


def _mac(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def issue_token(form: LeadForm, now: datetime) -> str:
    issued = str(int(now.timestamp()))
    return f"{issued}.{_mac(form.token_key, f'{form.form_key}.{issued}')[:32]}"


def spam_reason(form: LeadForm, submission: Submission, now: datetime) -> str | None:
    """Why a browser submission is spam (``None``: it is not); 400 for a forged token."""
    if _text(submission.fields.get(form.honeypot_field)):
        return "honeypot"
    if submission.token is None:
        raise _bad("token", "missing: get one from GET /api/v1/forms/<form key>")
    issued, _, mac = submission.token.partition(".")
    expected = _mac(form.token_key, f"{form.form_key}.{issued}")[:32]
    if not issued.isdigit() or not hmac.compare_digest(mac, expected):
        raise _bad("token", "not a token of this form")
    age = now.timestamp() - int(issued)
    if age > TOKEN_LIFETIME.total_seconds():
        raise _bad("token", "expired: reload the page")
    if age < form.min_fill_seconds:
        return "too_fast"
    return None


# -- signed server-side submissions -----------------------------------------------------------


def sign(secret: str, body: bytes, at: int) -> str:
    """The ``X-Voronka-Signature`` value for ``body`` sent at unix time ``at``."""
    return f"t={at},v1={_mac(secret, f'{at}.' + body.decode())}"


def check_signature(form: LeadForm, header: str | None, body: bytes, now: datetime) -> None:
    """Refuse (401) a submission of a signed form without a valid, fresh signature."""
    assert form.secret is not None
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        raise NotAuthenticated(
            "X-Voronka-Signature: missing or malformed",
            [ErrorDetail("expected t=<unix>,v1=<hex>", field="X-Voronka-Signature")],
        )
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise _bad("body", "not UTF-8") from exc
    expected = _mac(form.secret, f"{stamp}.{text}")
    skew = abs(now.timestamp() - int(stamp))
    if not hmac.compare_digest(given, expected) or skew > (
        get_settings().form_signature_tolerance_seconds
    ):
        raise NotAuthenticated(
            "X-Voronka-Signature: does not match or is too old",
            [ErrorDetail("bad signature", field="X-Voronka-Signature")],
        )
