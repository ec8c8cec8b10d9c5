"""Polling the lead mailbox: each new message is stored raw, then becomes a lead.

For every UID after the mailbox's cursor: the raw message goes into the inbound log under
its Message-ID (so a message seen again — a second poller, a reset UIDVALIDITY, a copy in
another folder — is recognised), then :func:`process_message` turns it into a lead: the
sender as client (found by e-mail or created), a deal in the default pipeline's first stage
with channel e-mail, and the subject and text as a note. Automatic mail (auto-replies,
bounces, lists) is stored and skipped. A message that cannot be read is marked failed with
the reason (``voronka hooks replay`` retries it); oversized messages are stored by their
headers only and marked failed. The cursor moves after each message, so a crash resumes.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from voronka import clock
from voronka.campaign.models import Channel, ChannelKind
from voronka.config import Settings, get_settings
from voronka.db.session import unit_of_work
from voronka.integrations import intake
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.integrations.mail import message
from voronka.integrations.mail.imap import Folder, MailboxSettings, open_folder
from voronka.integrations.mail.models import MailCursor
from voronka.lead.intake import LeadIn, take_lead

log = logging.getLogger(__name__)

PROVIDER = "mail"
HANDLER = "mail.process_message"
CHANNEL_SLUG = "email"
BASE64_TYPE = "message/rfc822; transfer=base64"
TOO_LARGE = "too_large"


@dataclass
class PollReport:
    """What one poll did."""

    mailbox: str
    seen: int = 0
    leads: int = 0
    duplicates: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox, "seen": self.seen, "leads": self.leads,
            "duplicates": self.duplicates, "skipped": self.skipped, "failed": self.failed,
            "errors": self.errors,
        }


# -- storing and processing one message -------------------------------------------------------


def _as_text(raw: bytes) -> tuple[str, str]:
    """The raw message as stored text: itself when it is UTF-8, else base64 of its bytes."""
    try:
        text = raw.decode("utf-8")
        if "\x00" not in text:
            return text, "message/rfc822"
    except UnicodeDecodeError:
        pass
    return base64.b64encode(raw).decode("ascii"), BASE64_TYPE


def raw_bytes(event: InboundEvent) -> bytes:
    """The message bytes of a stored mail event."""
    if event.content_type == BASE64_TYPE:
        return base64.b64decode(event.body)
    return event.body.encode("utf-8")


def email_channel(session: Session, workspace_id: int) -> Channel:
    """The workspace's e-mail channel (slug ``email``), created the first time it is needed."""
    channel = session.scalar(
        select(Channel).where(Channel.workspace_id == workspace_id, Channel.slug == CHANNEL_SLUG)
    )
    if channel is None:
        channel = Channel(
            workspace_id=workspace_id, slug=CHANNEL_SLUG, name="E-mail / Почта",
            kind=ChannelKind.EMAIL, is_paid=False,
        )
        session.add(channel)
        session.flush()
    return channel


def process_message(session: Session, event: InboundEvent) -> dict[str, Any]:
    """Turn a stored message into a lead (see the module docstring)."""
    if event.kind == TOO_LARGE:
        raise message.BadMessage(
            "larger than VORONKA_MAIL_MAX_MESSAGE_BYTES; only its headers are stored"
        )
    mail = message.parse(raw_bytes(event))
    if mail.automatic:
        return {"skipped": "automatic message (auto-reply, bounce or mailing list)"}
    channel = email_channel(session, event.workspace_id)
    lead = take_lead(
        session,
        lead=LeadIn(
            workspace_id=event.workspace_id,
            title=f"E-mail: {mail.subject or '(no subject)'}"[:300],
            occurred_at=mail.sent_at or event.received_at,
            name=mail.sender_name,
            email=mail.sender_email,
            channel_id=channel.id,
            note_subject=mail.subject or "(no subject)",
            note_body=mail.text or None,
            note_external_id=f"mail:{event.external_id}"[:200],
        ),
    )
    return {
        "client_id": lead.client.id, "deal_id": lead.deal.id, "activity_id": lead.activity_id,
        "client_created": lead.client_created, "attachments_ignored": mail.attachments,
    }


def _receive(engine: Engine, workspace_id: int, raw: bytes, *, too_large: bool) -> intake.Outcome:
    body, content_type = _as_text(raw)
    return intake.receive(
        engine,
        workspace_id=workspace_id,
        provider=PROVIDER,
        kind=TOO_LARGE if too_large else "message",
        external_id=message.message_id(raw),
        body=body,
        content_type=content_type,
        processor=process_message,
        handler=HANDLER,
    )


# -- polling ----------------------------------------------------------------------------------


def _cursor(engine: Engine, workspace_id: int, mailbox: str, uid_validity: int) -> int:
    """The last UID read under this UIDVALIDITY (0 when it changed or is new)."""
    with unit_of_work(engine) as session:
        cursor = session.scalar(select(MailCursor).where(MailCursor.mailbox == mailbox))
        if cursor is None:
            cursor = MailCursor(
                workspace_id=workspace_id, mailbox=mailbox, uid_validity=uid_validity, last_uid=0
            )
            session.add(cursor)
        elif cursor.uid_validity != uid_validity:
            cursor.uid_validity, cursor.last_uid = uid_validity, 0
        return cursor.last_uid


def _advance(engine: Engine, mailbox: str, uid: int) -> None:
    with unit_of_work(engine) as session:
        cursor = session.scalar(select(MailCursor).where(MailCursor.mailbox == mailbox))
        assert cursor is not None
        cursor.last_uid = max(cursor.last_uid, uid)
        cursor.polled_at = clock.now()


def _take(engine: Engine, folder: Folder, uid: int, report: PollReport, settings: Settings) -> None:
    too_large = folder.size(uid) > settings.mail_max_message_bytes
    raw = folder.fetch(uid, headers_only=too_large)
    outcome = _receive(engine, settings.mail_workspace_id, raw, too_large=too_large)
    report.seen += 1
    if outcome.duplicate:
        report.duplicates += 1
    elif outcome.status == InboundStatus.FAILED:
        report.failed += 1
        report.errors.append(f"UID {uid}: {outcome.error}")
    elif outcome.result and "skipped" in outcome.result:
        report.skipped += 1
    else:
        report.leads += 1


def poll(engine: Engine, settings: Settings | None = None) -> PollReport:
    """Read new messages of the configured mailbox (at most ``mail_batch_size``)."""
    settings = settings or get_settings()
    box = MailboxSettings.of(settings)
    report = PollReport(mailbox=box.mailbox)
    with open_folder(box) as folder:
        last = _cursor(engine, settings.mail_workspace_id, box.mailbox, folder.uid_validity)
        for uid in folder.uids_after(last)[: settings.mail_batch_size]:
            _take(engine, folder, uid, report, settings)
            _advance(engine, box.mailbox, uid)
    if report.failed:
        log.warning("mail poll of %s: %d message(s) failed", box.mailbox, report.failed)
    return report
