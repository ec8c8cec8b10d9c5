"""Reading an inbound e-mail: sender, subject, text; attachments are counted, never opened."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from voronka.client.contact import normalize_email

#: Longest body kept in the lead's note; the raw message keeps everything.
MAX_BODY_CHARS = 20_000


class BadMessage(ValueError):
    """The message cannot become a lead; the reason says why (stored, reported)."""


@dataclass(frozen=True)
class InboundMail:
    message_id: str
    sender_email: str
    sender_name: str | None
    subject: str
    text: str
    sent_at: datetime | None
    attachments: int
    automatic: bool  # an auto-reply, bounce or list mail: not a lead


class _Text(HTMLParser):
    """Text of an HTML body (scripts and styles dropped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()


def fallback_id(raw: bytes) -> str:
    """An id for a message without a Message-ID header: the hash of its bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def message_id(raw: bytes) -> str:
    """The message's Message-ID (without angle brackets), else :func:`fallback_id`."""
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    value = str(parsed.get("Message-ID", "") or "").strip().strip("<>").strip()
    return value[:190] if value else fallback_id(raw)


def _sender(msg: EmailMessage) -> tuple[str, str | None]:
    try:
        addresses: tuple[Address, ...] = msg["from"].addresses if msg["from"] else ()
    except (AttributeError, IndexError, ValueError) as exc:
        raise BadMessage(f"unreadable From header: {exc}") from exc
    if not addresses or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
        raise BadMessage("no sender address in From")
    try:
        sender = normalize_email(addresses[0].addr_spec)
    except ValueError as exc:
        raise BadMessage(f"sender address is not valid: {exc}") from exc
    return sender, (addresses[0].display_name or None)


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content.replace("\r\n", "\n").replace("\x00", "").strip()[:MAX_BODY_CHARS]


def _automatic(msg: EmailMessage, sender: str) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    local = sender.partition("@")[0]
    return (
        auto not in ("", "no")
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or local in ("mailer-daemon", "postmaster", "no-reply", "noreply")
        or bool(msg.get("List-Id"))
    )


def parse(raw: bytes) -> InboundMail:
    """Read what a lead needs from the raw message, or raise :class:`BadMessage`."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    sender, name = _sender(msg)
    try:
        subject = str(msg.get("Subject", "") or "").replace("\x00", "").strip()
    except (ValueError, IndexError):
        subject = ""
    try:
        sent_at = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
        sent_at = sent_at.astimezone(UTC) if sent_at and sent_at.tzinfo else None
    except (TypeError, ValueError, IndexError):
        sent_at = None
    attachments = sum(1 for _ in msg.iter_attachments()) if msg.is_multipart() else 0
    return InboundMail(
        message_id=message_id(raw),
        sender_email=sender,
        sender_name=name.replace("\x00", "")[:300] if name else None,
        subject=subject[:300],
        text=_body(msg),
        sent_at=sent_at,
        attachments=attachments,
        automatic=_automatic(msg, sender),
    )
