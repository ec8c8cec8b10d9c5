"""Contact normalisation for millions of rows: a fast path for the common shapes.

``voronka.client.contact`` parses every value with ``phonenumbers``/``email_validator``
(~35 000 values/s). Most imported phones are Russian mobile or city numbers and most
e-mails are plain ASCII: for exactly those shapes the canonical form is computed directly,
and anything else goes to the full normaliser, so the result is always the one the rest of
Voronka stores (a test compares both paths on the shapes the fast path accepts).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from voronka.client.contact import normalize_email, normalize_phone
from voronka.transfer import cells
from voronka.transfer.reading import CellValue

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


class Moments:
    """``cells.moment`` for a column of timestamps, with the zone's offsets cached by hour.

    Converting a local time to UTC through ``ZoneInfo`` costs more than parsing it. Within
    one local hour the offset is the same unless a transition falls inside that hour, so the
    offset of an hour is cached when its first and last microsecond agree (no time zone has
    two transitions in one hour); the result equals ``cells.moment`` (with ``fold=0``, as
    ``datetime.replace`` gives) for every value — as the same instant, with a fixed offset —
    and anything but an ISO text takes the full path.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[tuple[int, int, int, int], timezone | None] = {}

    def __call__(self, value: CellValue) -> datetime:
        if value.__class__ is not str or value[:1] == "'":  # type: ignore[index]
            return cells.moment(value, self.zone)
        try:
            parsed = datetime.fromisoformat(value.strip())  # type: ignore[union-attr]
        except ValueError:
            return cells.moment(value, self.zone)  # the Russian formats, or the error
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        key = (parsed.year, parsed.month, parsed.day, parsed.hour)
        offset = self._offsets.get(key, _UNKNOWN)
        if offset is _UNKNOWN:
            offset = self._offsets[key] = self._hour_offset(parsed)
        if offset is None:
            return parsed.replace(tzinfo=self.zone).astimezone(UTC)
        return parsed.replace(tzinfo=offset)  # the same instant; stored as UTC by the driver

    def _hour_offset(self, moment: datetime) -> timezone | None:
        start = moment.replace(minute=0, second=0, microsecond=0, tzinfo=self.zone)
        end = start.replace(minute=59, second=59, microsecond=999_999)
        first, last = start.utcoffset(), end.utcoffset()
        return timezone(first) if first is not None and first == last else None


_UNKNOWN: Any = object()
