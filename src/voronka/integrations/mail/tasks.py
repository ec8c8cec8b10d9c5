"""Jobs of inbound mail: the periodic poll and the replay of a failed message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from voronka.config import get_settings
from voronka.integrations import intake
from voronka.integrations.mail import service
from voronka.jobs import JobContext, job

job(service.HANDLER)(intake.replay_handler(service.process_message, service.HANDLER))


@job("mail.poll", every=timedelta(minutes=get_settings().mail_poll_minutes), max_attempts=1)
def poll_mailbox(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Read the lead mailbox (nothing to do when no IMAP host is configured)."""
    if not get_settings().mail_imap_host:
        return {"skipped": "VORONKA_MAIL_IMAP_HOST is not set"}
    return service.poll(ctx.engine).as_dict()
