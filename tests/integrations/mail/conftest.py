"""Inbound mail tests: a fake IMAP server at the port, the settings pointing at it, and the
tracker shop's pipeline and channels (tests/tracking/support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integrations.mail.imap_server import FakeImapServer, Mailbox
from tests.tracking.support import Shop, shop_fixture
from voronka.config import get_settings

FIXTURES = Path(__file__).parent / "fixtures"


def eml(name: str) -> bytes:
    """A fixture message with CRLF line ends, as IMAP servers send them."""
    raw = (FIXTURES / f"{name}.eml").read_bytes()
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, FakeImapServer]]:
    box = Mailbox()
    server = FakeImapServer(box)
    yield box, server
    server.close()


@pytest.fixture
def mail_settings(mailbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box, server = mailbox
    for name, value in {
        "VORONKA_MAIL_IMAP_HOST": "127.0.0.1", "VORONKA_MAIL_IMAP_PORT": str(server.port),
        "VORONKA_MAIL_IMAP_USER": box.user, "VORONKA_MAIL_IMAP_PASSWORD": box.password,
        "VORONKA_MAIL_IMAP_TLS": "none", "VORONKA_MAIL_MAX_MESSAGE_BYTES": "4096",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield box
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def shop(engine) -> Iterator[Shop]:
    yield from shop_fixture(engine)
