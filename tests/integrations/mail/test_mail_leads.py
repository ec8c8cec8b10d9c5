"""Inbound e-mail against a fake IMAP server: each new message becomes a lead, idempotent by
Message-ID; automatic mail is skipped; bad and oversized messages are stored and reported."""

from __future__ import annotations

import base64

from sqlalchemy import select
from typer.testing import CliRunner

from tests.integrations.mail.conftest import eml
from tests.tracking.support import Shop
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.activity.models import Activity, ActivityKind
from voronka.campaign.models import Channel, ChannelKind
from voronka.cli import main as cli_main
from voronka.client import service as client_service
from voronka.client.models import Client, ContactKind
from voronka.client.schemas import ClientCreate, ContactIn
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal
from voronka.integrations.inbound import InboundEvent
from voronka.integrations.mail import service
from voronka.integrations.mail.models import MailCursor
from voronka.jobs import enqueue, run_pending

FIVE = ["plain", "html_attachment", "autoreply", "no_sender", "koi8"]


def test_new_messages_become_leads_and_bad_ones_are_reported(shop: Shop, mail_settings):
    for name in FIVE:
        mail_settings.add(eml(name))
    report = service.poll(shop.engine)
    assert report.as_dict() == {
        "mailbox": f"leads@shop.example@127.0.0.1:{_port()}/INBOX", "seen": 5, "leads": 3,
        "duplicates": 0, "skipped": 1, "failed": 1,
        "errors": ["UID 4: BadMessage: no sender address in From"],
    }
    assert mail_settings.commands.count("EXAMINE") == 1  # read-only: flags never change
    with unit_of_work(shop.engine, write=False) as session:
        channel = session.scalar(select(Channel).where(Channel.slug == "email"))
        assert (channel.kind, channel.name) == (ChannelKind.EMAIL, "E-mail / Почта")
        clients = session.execute(select(Client.name, Client.source_channel_id)
                                  .order_by(Client.id)).all()
        assert clients == [("Иван Сидоров", channel.id), ("Olga K.", channel.id),
                           ("shkaf@example.ru", channel.id)]
        deals = session.execute(select(Deal.title, Deal.channel_id, Deal.stage_id)
                                .order_by(Deal.id)).all()
        assert deals == [("E-mail: Заявка на диван", channel.id, shop.first_stage_id),
                         ("E-mail: Quote request", channel.id, shop.first_stage_id),
                         ("E-mail: Шкаф", channel.id, shop.first_stage_id)]
        notes = session.execute(select(Activity.kind, Activity.subject, Activity.body)
                                .order_by(Activity.id)).all()
        assert notes == [
            (ActivityKind.NOTE, "Заявка на диван",
             "Здравствуйте! Сколько стоит диван «Уют» с доставкой?\nТелефон: +7 916 000-00-01"),
            (ActivityKind.NOTE, "Quote request",
             "Please send a quote for 3 chairs.\nThanks & regards"),
            (ActivityKind.NOTE, "Шкаф", "Добрый день, нужен шкаф."),
        ]
        events = session.execute(select(InboundEvent.external_id, InboundEvent.status,
                                        InboundEvent.content_type)
                                 .order_by(InboundEvent.id)).all()
        assert [(e, s.value, c) for e, s, c in events] == [
            ("lead-0001@mail.example.org", "processed", "message/rfc822"),
            ("lead-0002@mail.example.com", "processed", "message/rfc822"),
            ("auto-0003@mail.example.net", "processed", "message/rfc822"),
            ("broken-0004@mail.example.net", "failed", "message/rfc822"),
            ("lead-0005@mail.example.ru", "processed", service.BASE64_TYPE),  # not UTF-8
        ]
        koi8 = session.scalar(select(InboundEvent).where(
            InboundEvent.external_id == "lead-0005@mail.example.ru"))
        assert base64.b64decode(koi8.body) == eml("koi8")  # the raw bytes, exactly
        html = session.scalar(select(InboundEvent).where(
            InboundEvent.external_id == "lead-0002@mail.example.com"))
        assert html.result["attachments_ignored"] == 1
        assert session.scalar(select(MailCursor.last_uid)) == 5


def _port() -> str:
    from voronka.config import get_settings

    return str(get_settings().mail_imap_port)


def test_a_message_seen_again_is_recognised_by_its_message_id(shop: Shop, mail_settings):
    mail_settings.add(eml("plain"))
    assert service.poll(shop.engine).leads == 1
    assert service.poll(shop.engine).seen == 0  # nothing after the cursor
    mail_settings.add(eml("plain"))  # the same message again (copied into the folder)
    again = service.poll(shop.engine)
    assert (again.seen, again.duplicates, again.leads) == (1, 1, 0)
    mail_settings.uid_validity = 2  # the server renumbered the folder
    renumbered = service.poll(shop.engine)
    assert (renumbered.seen, renumbered.duplicates, renumbered.leads) == (2, 2, 0)
    assert shop.count(Deal) == 1


def test_a_known_sender_gets_a_new_deal_not_a_new_client(shop: Shop, mail_settings):
    with unit_of_work(shop.engine) as session:
        known = client_service.create(
            session, actor=Actor.system(1), scope=Scope.ALL, allow_duplicate=False,
            data=ClientCreate(name="Ivan", contacts=[
                ContactIn(kind=ContactKind.EMAIL, value="IVAN@example.org")]))
        known_id = known.id
    mail_settings.add(eml("plain"))
    service.poll(shop.engine)
    assert shop.rows(select(Deal.client_id)) == [(known_id,)]
    assert shop.count(Client) == 1


def test_an_oversized_message_is_stored_by_its_headers_and_reported(shop: Shop, mail_settings):
    big = eml("plain").replace(b"\r\n\r\n", b"\r\n\r\n" + b"x" * 5000 + b"\r\n", 1)
    mail_settings.add(big)
    report = service.poll(shop.engine)
    assert (report.failed, report.leads) == (1, 0)
    [(event,)] = shop.rows(select(InboundEvent))
    assert (event.kind, event.status.value) == ("too_large", "failed")
    assert "VORONKA_MAIL_MAX_MESSAGE_BYTES" in event.error
    assert event.body.endswith("Content-Transfer-Encoding: 8bit\r\n\r\n")  # headers only
    assert shop.count(Deal) == 0


def test_the_cli_polls_once_and_reports_failures(shop: Shop, mail_settings, monkeypatch):
    monkeypatch.setenv("VORONKA_DATABASE_URL",
                       shop.engine.url.render_as_string(hide_password=False))
    from voronka.config import get_settings

    get_settings.cache_clear()
    cli_main._register_optional()
    mail_settings.add(eml("plain"))
    mail_settings.add(eml("no_sender"))
    result = CliRunner().invoke(cli_main.app, ["mail", "poll", "--format", "json"])
    assert result.exit_code == 2, result.output  # a message could not become a lead
    assert '"leads": 1' in result.stdout and '"failed": 1' in result.stdout
    assert "UID 2: BadMessage: no sender address in From" in result.stderr
    mail_settings.password = "changed"
    refused = CliRunner().invoke(cli_main.app, ["mail", "poll"])
    assert refused.exit_code == 1
    assert refused.stderr == ("error: IMAP LOGIN as leads@shop.example refused: "
                              "[AUTHENTICATIONFAILED] Invalid credentials\n")
    assert "Traceback" not in refused.output


def test_the_periodic_job_polls_the_mailbox(shop: Shop, mail_settings):
    mail_settings.add(eml("plain"))
    with unit_of_work(shop.engine) as session:
        enqueue(session, "mail.poll", {})
    assert run_pending(shop.engine) == 1
    assert shop.count(Deal) == 1
