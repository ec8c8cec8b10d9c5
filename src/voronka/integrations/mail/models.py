"""Where the IMAP poller stopped in each mailbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from voronka.db.base import Base, IdMixin, WorkspaceMixin
from voronka.db.columns import pd
from voronka.db.types import UTCDateTime


class MailCursor(IdMixin, WorkspaceMixin, Base):
    """The last UID read from a mailbox (``user@host/folder``) under its UIDVALIDITY.

    When the server changes UIDVALIDITY the folder is read again from the start; messages
    seen before are recognised by their Message-ID in the inbound log.
    """

    __tablename__ = "mail_cursor"

    mailbox: Mapped[str] = mapped_column(String(300), unique=True, info=pd("none"))
    uid_validity: Mapped[int] = mapped_column(BigInteger, info=pd("none"))
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0, info=pd("none"))
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
