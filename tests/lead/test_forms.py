"""Lead forms: a submission becomes a client, a lead deal, a note, consents and a form
touchpoint; resends change nothing; spam traps, signatures, bad fields and rate limits."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.lead.conftest import make_form
from tests.tracking.support import BROWSER, ORIGIN, VISITOR, Shop
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.activity.models import Activity, ActivityKind
from voronka.campaign.models import Touchpoint, TouchpointKind
from voronka.client import service as client_service
from voronka.client.models import Client, ConsentRecord, ContactKind, ContactPoint
from voronka.client.schemas import ClientCreate, ContactIn
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal
from voronka.integrations import inbound
from voronka.integrations.inbound import InboundEvent
from voronka.jobs import run_pending
from voronka.lead import checks
from voronka.lead.models import FormSubmission
from voronka.pipeline.models import Pipeline
from voronka.tracking.models import SiteVisitor
from voronka.web.app import create_app

SPRING = f"{ORIGIN}/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring"
FIELDS = {"name": "Анна Петрова", "phone": "8 (916) 555-12-34", "email": " Anna@Example.RU ",
          "comment": "Call me after 18:00", "agree": True, "news": "on", "website": ""}


def token(shop: Shop, form: dict[str, Any]) -> str:
    response = shop.browser.get(f"/api/v1/forms/{form['key']}", headers={"Origin": ORIGIN})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert (body["name"], body["honeypot"], len(body["fields"])) == ("Contact us", "website", 6)
    return str(body["token"])


def submit(shop: Shop, form: dict[str, Any], *, submission: str = "sub-0000000001",
           fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
           raw: bytes | None = None, **extra: Any):
    payload = {"submission_id": submission, "fields": FIELDS if fields is None else fields,
               **extra}
    return shop.post(f"/api/v1/forms/{form['key']}", raw or json.dumps(payload).encode(),
                     headers)


def counts(shop: Shop) -> dict[str, int]:
    return {name: shop.count(model) for name, model in (
        ("clients", Client), ("deals", Deal), ("activities", Activity),
        ("consents", ConsentRecord), ("touchpoints", Touchpoint), ("events", InboundEvent),
        ("submissions", FormSubmission))}


NOTHING = {"clients": 0, "deals": 0, "activities": 0, "consents": 0, "touchpoints": 0,
           "events": 0, "submissions": 0}


def test_a_submission_from_a_tracked_visitor_becomes_a_lead_of_the_visit_campaign(
    shop: Shop, form, frozen
):
    shop.hit(url=SPRING)  # the visitor came from the spring campaign
    issued = token(shop, form)
    frozen.advance(seconds=40)  # filled in 40 s (min_fill_seconds = 3)
    response = submit(shop, form, token=issued, visitor=VISITOR, url=f"{ORIGIN}/contacts")
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "received", "submission_id": "sub-0000000001",
                               "duplicate": False}
    assert counts(shop) == {"clients": 1, "deals": 1, "activities": 1, "consents": 2,
                            "touchpoints": 1, "events": 2, "submissions": 1}
    with unit_of_work(shop.engine, write=False) as session:
        client = session.scalar(select(Client))
        assert client.name == "Анна Петрова"
        assert [(c.kind, c.value) for c in client.contacts] == [
            (ContactKind.PHONE, "+79165551234"), (ContactKind.EMAIL, "anna@example.ru")]
        assert (client.source_channel_id, client.source_campaign_id) == (
            shop.channels["direct"], shop.campaigns["spring"])
        deal = session.scalar(select(Deal))
        assert (deal.title, deal.client_id, deal.pipeline_id, deal.stage_id) == (
            "Contact us: Анна Петрова", client.id, shop.pipeline_id, shop.first_stage_id)
        assert (deal.channel_id, deal.campaign_id, deal.owner_id) == (
            shop.channels["direct"], shop.campaigns["spring"], None)
        note = session.scalar(select(Activity))
        assert (note.kind, note.deal_id, note.subject) == (
            ActivityKind.NOTE, deal.id, "Contact us (form)")
        assert note.body == f"Comment: Call me after 18:00\npage: {ORIGIN}/contacts"
        consents = session.execute(select(ConsentRecord.purpose, ConsentRecord.granted,
                                          ConsentRecord.text_version)
                                   .order_by(ConsentRecord.id)).all()
        assert [(p.value, g, v) for p, g, v in consents] == [
            ("data_processing", True, "2026-01"), ("marketing_email", True, "2026-01")]
        touch = session.scalar(select(Touchpoint))
        assert (touch.kind, touch.visitor_id, touch.client_id, touch.campaign_id) == (
            TouchpointKind.FORM, VISITOR, client.id, shop.campaigns["spring"])
        assert touch.occurred_at == frozen.now
        visitor = session.scalar(select(SiteVisitor))
        assert (visitor.client_id, visitor.linked_by, visitor.linked_at) == (
            client.id, "form", frozen.now)
        submission = session.scalar(select(FormSubmission))
        assert (submission.status.value, submission.client_id, submission.deal_id,
                submission.client_created) == ("accepted", client.id, deal.id, True)


def test_a_resent_submission_changes_nothing(shop: Shop, form, frozen):
    issued = token(shop, form)
    frozen.advance(seconds=10)
    assert submit(shop, form, token=issued).json()["duplicate"] is False
    before = counts(shop)
    again = submit(shop, form, token=issued)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    assert counts(shop) == before


def test_a_known_phone_finds_the_client_and_adds_the_new_email(shop: Shop, form, frozen):
    with unit_of_work(shop.engine) as session:
        known = client_service.create(
            session, actor=Actor.system(1), scope=Scope.ALL, allow_duplicate=False,
            data=ClientCreate(name="A. Petrova", contacts=[
                ContactIn(kind=ContactKind.PHONE, value="+7 916 555 12 34")]))
        known_id = known.id
    issued = token(shop, form)
    frozen.advance(seconds=10)
    assert submit(shop, form, token=issued).status_code == 202
    assert shop.count(Client) == 1
    assert shop.rows(select(ContactPoint.kind, ContactPoint.value).order_by(ContactPoint.id)) == [
        (ContactKind.PHONE, "+79165551234"), (ContactKind.EMAIL, "anna@example.ru")]
    assert shop.rows(select(Deal.client_id)) == [(known_id,)]
    assert shop.rows(select(FormSubmission.client_created)) == [(False,)]


def test_the_campaign_comes_from_the_page_utm_values_then_from_the_form(shop: Shop, frozen):
    plain = make_form(shop, campaign_id=shop.campaigns["stories"])
    issued = token(shop, plain)
    frozen.advance(seconds=10)
    submit(shop, plain, token=issued, url=SPRING)  # no visitor: the page's UTM values
    submit(shop, plain, token=issued, submission="sub-0000000002",
           fields={**FIELDS, "phone": "+79160000002", "email": "b@example.ru"})
    assert shop.rows(select(Deal.campaign_id, Deal.channel_id).order_by(Deal.id)) == [
        (shop.campaigns["spring"], shop.channels["direct"]),
        (shop.campaigns["stories"], shop.channels["vk"])]


def test_spam_is_acknowledged_and_counted_but_makes_no_lead(shop: Shop, form, frozen):
    issued = token(shop, form)
    frozen.advance(seconds=1)  # faster than the 3 s a person needs
    fast = submit(shop, form, token=issued, submission="sub-fast-0001")
    frozen.advance(seconds=10)
    trapped = submit(shop, form, token=issued, submission="sub-trap-0001",
                     fields={**FIELDS, "website": "http://spam.example"})
    assert [fast.status_code, trapped.status_code] == [202, 202]  # bots learn nothing
    assert fast.json()["status"] == trapped.json()["status"] == "received"
    assert shop.rows(select(FormSubmission.submission_key, FormSubmission.spam_reason,
                            FormSubmission.client_id).order_by(FormSubmission.id)) == [
        ("sub-fast-0001", "too_fast", None), ("sub-trap-0001", "honeypot", None)]
    assert {**counts(shop), "submissions": 0} == NOTHING


BAD_SUBMISSIONS = [  # (change, status, fields named)
    ({"token": None}, 400, ["token"]),
    ({"token": "123.forged"}, 400, ["token"]),
    ({"submission_id": "short"}, 400, ["submission_id"]),
    ({"fields": {**FIELDS, "phone": "12"}}, 422, ["fields.phone"]),
    ({"fields": {**FIELDS, "email": "not-an-email"}}, 422, ["fields.email"]),
    ({"fields": {**FIELDS, "name": "  "}}, 422, ["fields.name"]),
    ({"fields": {**FIELDS, "agree": False}}, 422, ["fields.agree"]),
    ({"fields": {**FIELDS, "phone": "", "email": ""}}, 422, ["fields"]),
    ({"fields": {**FIELDS, "comment": "x" * 501}}, 422, ["fields.comment"]),
    ({"fields": {**FIELDS, "role": "admin"}}, 422, ["fields.role"]),
    ({"fields": {**FIELDS, "comment": "a\x00b"}}, 422, ["fields.comment"]),
    ({"fields": {**FIELDS, "name": {"$ne": 1}}}, 400, ["fields.name"]),
    ({"owner_id": 1}, 400, ["owner_id"]),
]


@pytest.fixture
def many_per_ip(monkeypatch: pytest.MonkeyPatch):
    """Bad requests use up the rate limit too: allow the whole suite of them from one IP."""
    monkeypatch.setenv("VORONKA_FORM_RATE_BURST", "100")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_bad_submissions_are_refused_naming_the_field_and_nothing_is_stored(
    shop: Shop, form, frozen, many_per_ip
):
    issued = token(shop, form)
    frozen.advance(seconds=10)
    for change, status, fields in BAD_SUBMISSIONS:
        payload = {"submission_id": "sub-0000000001", "fields": FIELDS, "token": issued,
                   **change}
        response = submit(shop, form, raw=json.dumps(payload).encode())
        assert response.status_code == status, (change, response.text)
        named = [d.get("field") for d in response.json()["error"]["details"]]
        assert named == fields, (change, named)
    for raw in (b"", b"[]", b"{bad json"):
        assert submit(shop, form, raw=raw).status_code == 400
    frozen.advance(hours=25)
    expired = submit(shop, form, token=issued)
    assert expired.status_code == 400 and "expired" in expired.json()["error"]["message"]
    unknown = shop.post("/api/v1/forms/no-such-form", {"submission_id": "x" * 10, "fields": {}})
    assert unknown.status_code == 404
    assert counts(shop) == NOTHING


def test_a_signed_form_takes_only_fresh_correct_signatures(shop: Shop, frozen):
    secret = "s3cret-shared-with-the-backend"
    signed = make_form(shop, secret=secret)
    body = json.dumps({"submission_id": "crm-0000000001", "fields": FIELDS}).encode()
    now = int(frozen.now.timestamp())
    for header, why in ((None, "missing"), (checks.sign("wrong-secret-0000", body, now), "key"),
                        (checks.sign(secret, body, now - 301), "stale")):
        response = submit(shop, signed, raw=body, headers={"X-Voronka-Signature": header}
                          if header else None)
        assert response.status_code == 401, why
        assert [d["field"] for d in response.json()["error"]["details"]] == [
            "X-Voronka-Signature"]
    assert counts(shop) == NOTHING
    good = submit(shop, signed, raw=body,
                  headers={"X-Voronka-Signature": checks.sign(secret, body, now - 299)})
    assert good.status_code == 202, good.text
    assert shop.count(Deal) == 1
    [(event,)] = shop.rows(select(InboundEvent))
    assert event.headers["x-voronka-signature"] == inbound.REDACTED  # never stored


@pytest.fixture
def two_per_ip(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VORONKA_FORM_RATE_BURST", "2")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_submissions_are_rate_limited_per_ip(shop: Shop, form, frozen, two_per_ip):
    issued = token(shop, form)
    frozen.advance(seconds=10)
    codes = [submit(shop, form, token=issued, submission=f"sub-rate-{n:04d}").status_code
             for n in range(3)]
    assert codes == [202, 202, 429]
    limited = submit(shop, form, token=issued, submission="sub-rate-9999")
    # 30 per hour: one submission every 120 s
    assert limited.headers["retry-after"] == "120"


def test_a_submission_that_fails_processing_is_kept_and_replayed(shop: Shop, form, frozen):
    with unit_of_work(shop.engine) as session:
        session.get(Pipeline, shop.pipeline_id).is_archived = True  # no pipeline to enter
    issued = token(shop, form)
    frozen.advance(seconds=10)
    response = submit(shop, form, token=issued)
    assert response.status_code == 202  # received: stored, to be replayed
    [(event,)] = shop.rows(select(InboundEvent))
    assert (event.status.value, event.handler, event.attempts) == (
        "failed", "lead.process_form", 1)
    assert "pipeline" in event.error
    assert (shop.count(Client), shop.count(Deal), shop.count(FormSubmission)) == (0, 0, 0)
    with unit_of_work(shop.engine) as session:
        session.get(Pipeline, shop.pipeline_id).is_archived = False
        assert inbound.replay(session, inbound.replayable(session, provider="form")) == 1
    assert run_pending(shop.engine) == 1
    [(event,)] = shop.rows(select(InboundEvent))
    assert (event.status.value, event.attempts) == ("processed", 2)
    assert (shop.count(Client), shop.count(Deal), shop.count(FormSubmission)) == (1, 1, 1)
    assert submit(shop, form, token=issued).json()["duplicate"] is True
    assert shop.count(Deal) == 1




def test_two_submissions_with_one_phone_at_the_same_moment_make_one_client(
    shop: Shop, form, frozen
):
    """RELIABILITY 78: concurrent leads of one person meet in one client (PostgreSQL takes an
    advisory lock per contact value; SQLite runs one writer at a time)."""
    issued = token(shop, form)
    frozen.advance(seconds=10)
    start = threading.Barrier(2)
    app = create_app(shop.engine)  # built here: building apps in threads races on warnings

    def send(n: int) -> int:
        body = json.dumps({"submission_id": f"sub-race-{n:04d}", "token": issued,
                           "fields": {**FIELDS, "email": f"race{n}@example.ru"}}).encode()
        with TestClient(app) as browser:
            start.wait()
            return browser.post(f"/api/v1/forms/{form['key']}", content=body,
                                headers={"User-Agent": BROWSER}).status_code

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(send, range(2))) == [202, 202]
    assert (shop.count(Client), shop.count(Deal)) == (1, 2)
    assert shop.count(ContactPoint, ContactPoint.kind == ContactKind.PHONE) == 1
