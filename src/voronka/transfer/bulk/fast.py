"""Contact normalisation for millions of rows: a fast path for the common shapes.

``voronka.client.contact`` parses every value with ``phonenumbers``/``email_validator``
(~35 000 values/s). Most imported phones are Russian mobile or city numbers and most
e-mails are plain ASCII: for exactly those shapes the canonical form is computed directly,
and anything else goes to the full normaliser, so the result is always the one the rest of
Voronka stores (a test compares both paths on the shapes the fast path accepts).
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from voronka.client.contact import normalize_email, normalize_phone

# +7 / 8 / 7 followed by ten digits whose first is a Russian area/mobile prefix (3, 4, 8, 9):
# phonenumbers gives +7 and the ten digits for every such value with region RU.
_RU_PHONE = re.compile(r"(?:\+7|8|7)([3489]\d{9})")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_LOCAL = r"[a-z0-9_+\-]+(?:\.[a-z0-9_+\-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"({_LOCAL})@((?:{_LABEL}\.)+[a-z]{{2,24}})")
_SPECIAL = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def phone(raw: str, region: str) -> str:
    """E.164 form of ``raw`` (``ValueError`` when it is no phone number)."""
    if region == "RU" and raw.isascii():
        match = _RU_PHONE.fullmatch(_PHONE_PUNCTUATION.sub("", raw))
        if match:
            return "+7" + match.group(1)
    return normalize_phone(raw, region=region)


def email(raw: str) -> str:
    """Canonical e-mail (``ValueError`` when it is no e-mail address)."""
    text = raw.strip().lower()
    match = _PLAIN_EMAIL.fullmatch(text) if text.isascii() else None
    if (
        match
        and len(match.group(1)) <= 64
        and len(text) <= 254
        and "xn--" not in match.group(2)
        and match.group(2).rsplit(".", 1)[-1] not in _SPECIAL
    ):
        return text
    return normalize_email(raw)
