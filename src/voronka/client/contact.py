"""Normalisation of contact points, so duplicates are found however a value was typed.

Phones become E.164 (``8 (999) 123-45-67`` → ``+79991234567``); e-mails are trimmed and
lower-cased (the domain is IDNA-encoded); messenger ids become ``network:handle``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from voronka.client.models import ContactKind
from voronka.errors import ErrorDetail, InvalidInput

MESSENGER_NETWORKS = frozenset({"telegram", "whatsapp", "viber", "vk", "max", "skype"})


def normalize_phone(raw: str, *, region: str = "RU") -> str:
    """Return the E.164 form of ``raw`` or raise ``ValueError`` saying why."""
    return _e164(raw, region)


#: Parsing a number costs ~0.1 ms and call processing asks for the same few numbers of an
#: event five times (caller, tracking number, the activity's from/to checks): remembered.
@lru_cache(maxsize=65536)
def _e164(raw: str, region: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()  # full-width digits → ASCII
    if not text:
        raise ValueError("phone is empty")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number (wrong number of digits)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """Return the canonical (trimmed, lower-case, IDNA domain) e-mail or raise ``ValueError``."""
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    local, _, domain = result.normalized.rpartition("@")
    return f"{local.lower()}@{domain.encode('idna').decode('ascii').lower()}"


def normalize_messenger(raw: str) -> str:
    """Return ``network:handle`` from ``telegram:@Ivan`` style input or raise ``ValueError``."""
    network, sep, handle = unicodedata.normalize("NFKC", raw).strip().partition(":")
    network, handle = network.strip().lower(), handle.strip().lstrip("@").lower()
    if not sep or network not in MESSENGER_NETWORKS or not handle:
        raise ValueError(
            f"messenger id must look like 'network:handle' with network one of "
            f"{', '.join(sorted(MESSENGER_NETWORKS))}"
        )
    return f"{network}:{handle}"


def normalize_contact(kind: ContactKind, raw: str, *, region: str = "RU") -> str:
    """Normalise a contact value of ``kind``."""
    if kind is ContactKind.PHONE:
        return normalize_phone(raw, region=region)
    if kind is ContactKind.EMAIL:
        return normalize_email(raw)
    return normalize_messenger(raw)


def normalize_or_invalid(kind: ContactKind, raw: str, *, field: str, region: str = "RU") -> str:
    """Normalise or raise ``InvalidInput`` naming ``field``."""
    try:
        return normalize_contact(kind, raw, region=region)
    except ValueError as exc:
        raise InvalidInput(
            f"{field}: {exc}", [ErrorDetail(str(exc), field=field, value=raw[:100])]
        ) from exc


def mask_phone(e164: str) -> str:
    """Mask a phone for roles that may not see it: ``+7 *** ***-45-67``."""
    return f"{e164[:2]} *** ***-{e164[-4:-2]}-{e164[-2:]}" if len(e164) > 6 else "***"


def mask_email(email: str) -> str:
    """Mask an e-mail: ``i***@example.ru``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
