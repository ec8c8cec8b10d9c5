"""A small IMAP reader (imaplib): new UIDs of a folder and their raw messages.

The folder is opened read-only (``EXAMINE``): the poller never changes flags or deletes,
so the mailbox stays as people left it; where it stopped is kept in ``mail_cursor``.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from voronka.config import Settings

TIMEOUT_SECONDS = 30
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxError(Exception):
    """The server refused or broke the conversation; the message says where."""


@dataclass(frozen=True)
class MailboxSettings:
    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: str

    @classmethod
    def of(cls, settings: Settings) -> MailboxSettings:
        if not settings.mail_imap_host:
            raise MailboxError("VORONKA_MAIL_IMAP_HOST is not set")
        return cls(
            settings.mail_imap_host, settings.mail_imap_port, settings.mail_imap_user,
            settings.mail_imap_password.get_secret_value(), settings.mail_imap_folder,
            settings.mail_imap_tls,
        )

    @property
    def mailbox(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"[:300]


def _check(result: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = result
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise MailboxError(f"IMAP {what} failed: {detail[:200]}")
    return data


class Folder:
    """An open, read-only IMAP folder."""

    def __init__(self, client: imaplib.IMAP4, uid_validity: int) -> None:
        self._client = client
        self.uid_validity = uid_validity

    def uids_after(self, last_uid: int) -> list[int]:
        data = _check(self._client.uid("SEARCH", f"UID {last_uid + 1}:*"), "UID SEARCH")
        found = b" ".join(d for d in data if isinstance(d, bytes)).split()
        # "n:*" also answers the highest UID when it is below n: keep only newer ones
        return sorted(uid for uid in (int(x) for x in found if x.isdigit()) if uid > last_uid)

    def size(self, uid: int) -> int:
        data = _check(self._client.uid("FETCH", str(uid), "(RFC822.SIZE)"), "FETCH size")
        for item in data:
            text = item[0] if isinstance(item, tuple) else item
            match = _SIZE.search(text) if isinstance(text, bytes) else None
            if match:
                return int(match.group(1))
        raise MailboxError(f"IMAP FETCH size: no size for UID {uid}")

    def fetch(self, uid: int, *, headers_only: bool = False) -> bytes:
        section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        data = _check(self._client.uid("FETCH", str(uid), f"({section})"), "FETCH")
        for item in data:
            if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
                return item[1]
        raise MailboxError(f"IMAP FETCH: no message for UID {uid}")


def _connect(box: MailboxSettings) -> imaplib.IMAP4:
    if box.tls == "ssl":
        return imaplib.IMAP4_SSL(
            box.host, box.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
        )
    client = imaplib.IMAP4(box.host, box.port, timeout=TIMEOUT_SECONDS)
    if box.tls == "starttls":
        client.starttls(ssl_context=ssl.create_default_context())
    return client


@contextmanager
def open_folder(box: MailboxSettings) -> Iterator[Folder]:
    """Sign in and open the folder read-only; always log out."""
    try:
        client = _connect(box)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"cannot connect to {box.host}:{box.port}: {exc}") from exc
    try:
        try:
            _check(client.login(box.user, box.password), "LOGIN")
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"IMAP LOGIN as {box.user} refused: {_said(exc)}") from exc
        try:
            data = _check(client.select(_quote(box.folder), readonly=True), "EXAMINE")
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"IMAP EXAMINE {box.folder} refused: {_said(exc)}") from exc
        validity = _uid_validity(client, data)
        yield Folder(client, validity)
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _said(exc: Exception) -> str:
    """What the server said, without imaplib's ``b'...'`` wrapping."""
    text = str(exc)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_validity(client: imaplib.IMAP4, data: list[object]) -> int:
    _, responses = client.response("UIDVALIDITY")
    for item in [*responses, *data]:
        if isinstance(item, bytes):
            match = _UIDVALIDITY.search(item) or (item.isdigit() and re.match(rb"(\d+)", item))
            if match:
                return int(match.group(1))
    raise MailboxError("IMAP EXAMINE: the server sent no UIDVALIDITY")
