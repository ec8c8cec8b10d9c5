"""Settings forms: channels, campaigns, tracking numbers, users and roles, stages.

The forms call the same services as the REST API with the same policy; a refusal shows its
reason and stores nothing, and so does a POST without the page's CSRF token. SQLite and
PostgreSQL.
"""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.pipeline.sample import create_pipeline
from tests.web.ui.conftest import sign_in
from voronka.campaign.models import Campaign, Channel, TrackingNumber
from voronka.db.session import unit_of_work
from voronka.pipeline.models import Stage
from voronka.user.models import Role, User
from voronka.web.app import create_app

XSS = '<script>alert("x")</script>'
ERROR = re.compile(r'<p class="error-message">(.*?)</p>', re.S)


def _error(response) -> str:
    """The refusal's message as the page shows it."""
    found = ERROR.search(response.text)
    assert found, response.text
    return html.unescape(found.group(1))


def _count(engine, model, *where):
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _channel(browser, name="Yandex Direct", slug="yandex-direct", *, token=True, **extra):
    return browser.post("/ui/settings/channels",
                        {"name": name, "slug": slug, "kind": "paid_search", **extra}, token=token)


def _one(engine, model, *where):
    with unit_of_work(engine) as session:
        row = session.scalars(select(model).where(*where)).one()
        session.expunge(row)
        return row


def test_a_marketer_creates_and_renames_a_channel_and_a_campaign(people, browse, engine):
    k = browse("K")
    created = _channel(k, is_paid="on")
    assert created.status_code == 303 and created.headers["location"] == "/ui/settings#channels"
    channel = _one(engine, Channel)
    assert (channel.name, channel.slug, channel.kind.value, channel.is_paid) == (
        "Yandex Direct", "yandex-direct", "paid_search", True)
    campaign = k.post("/ui/settings/campaigns", {
        "name": "Fridges spring", "channel_id": str(channel.id), "utm_source": "yandex",
        "utm_medium": "cpc", "utm_campaign": "fridges_spring"})
    assert campaign.status_code == 303
    stored = _one(engine, Campaign)
    assert (stored.name, stored.channel_id, stored.utm_source, stored.utm_medium,
            stored.utm_campaign, stored.utm_content, stored.is_active) == (
        "Fridges spring", channel.id, "yandex", "cpc", "fridges_spring", None, True)
    # rename the channel; rename and deactivate the campaign (the checkbox left unticked)
    assert k.post(f"/ui/settings/channels/{channel.id}", {"name": "Direct"}).status_code == 303
    assert k.post(f"/ui/settings/campaigns/{stored.id}",
                  {"name": "Fridges (ended)"}).status_code == 303
    assert _one(engine, Channel).name == "Direct"
    changed = _one(engine, Campaign)
    assert (changed.name, changed.is_active) == ("Fridges (ended)", False)
    page = k.get("/ui/settings")
    assert page.status_code == 200
    assert "Fridges (ended)" in page.text and 'action="/ui/settings/campaigns"' in page.text


def test_roles_without_the_right_are_refused_and_nothing_changes(people, browse, engine):
    _channel(browse("X"))
    channel_id = _one(engine, Channel).id
    for who in ("M1", "H", "A"):
        browser = browse(who)
        refused = _channel(browser, name="Mine", slug="mine")
        assert refused.status_code == 403, who
        assert "Доступ запрещён" in refused.text or "Access denied" in refused.text
        assert browser.post(f"/ui/settings/channels/{channel_id}",
                            {"name": "Renamed"}).status_code == 403
        assert browser.post("/ui/settings/numbers", {"number": "+74951234567"}).status_code == 403
        assert browser.post("/ui/settings/users", {
            "email": "new@test.voronka.local", "name": "New", "role": "admin",
            "password": "long enough password"}).status_code == 403
        # the settings page shows no change forms to them
        page = browser.get("/ui/settings").text
        assert 'action="/ui/settings/channels"' not in page
        assert 'action="/ui/settings/users"' not in page
    # a marketer manages marketing but not users or stages
    k = browse("K")
    assert k.post("/ui/settings/users", {"email": "new@test.voronka.local", "name": "New",
                                         "role": "admin", "password": "long enough password"}
                  ).status_code == 403
    assert k.post(f"/ui/settings/users/{people.users['K']}/role",
                  {"role": "admin"}).status_code == 403
    assert _one(engine, Channel).name == "Yandex Direct"
    assert _count(engine, Channel) == 1 and _count(engine, TrackingNumber) == 0
    assert _count(engine, User, User.email == "new@test.voronka.local") == 0
    with unit_of_work(engine) as session:
        assert session.get(User, people.users["K"]).role is Role.MARKETER


def test_a_post_without_the_csrf_token_changes_nothing(people, browse, engine):
    x = browse("X")
    assert _channel(x, token=False).status_code == 403
    assert x.post("/ui/settings/channels", {"name": "A", "slug": "a", "kind": "direct",
                                            "csrf_token": "0" * 64}, token=False
                  ).status_code == 403
    assert x.post(f"/ui/settings/users/{people.users['M1']}/role", {"role": "admin"},
                  token=False).status_code == 403
    assert _count(engine, Channel) == 0
    with unit_of_work(engine) as session:
        assert session.get(User, people.users["M1"]).role is Role.SALES_MANAGER


def test_bad_input_names_the_field_and_stores_nothing(people, browse, engine):
    x = browse("X")
    empty = _channel(x, name="   ")
    assert empty.status_code == 422 and _error(empty) == "check the field(s): name"
    bad_slug = _channel(x, slug="Not a slug")
    assert bad_slug.status_code == 422 and _error(bad_slug) == "check the field(s): slug"
    assert _count(engine, Channel) == 0
    assert _channel(x).status_code == 303
    taken = _channel(x, name="Other")
    assert taken.status_code == 409 and _error(taken) == "a channel with slug 'yandex-direct' already exists"
    assert _count(engine, Channel) == 1
    no_channel = x.post("/ui/settings/campaigns", {"name": "Lost", "channel_id": "999999"})
    assert no_channel.status_code == 422 and _error(no_channel) == "channel_id: no such channel"
    assert _count(engine, Campaign) == 0


def test_user_text_is_escaped_on_the_settings_page(people, browse, engine):
    x = browse("X")
    assert _channel(x, name=XSS).status_code == 303
    page = x.get("/ui/settings").text
    assert XSS not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_tracking_numbers_are_added_and_switched_off(people, browse, engine):
    k = browse("K")
    _channel(k)
    channel_id = _one(engine, Channel).id
    k.post("/ui/settings/campaigns", {"name": "Spring", "channel_id": str(channel_id)})
    campaign_id = _one(engine, Campaign).id
    # the channel follows the campaign; the number is stored as E.164
    added = k.post("/ui/settings/numbers", {"number": "8 (495) 123-45-67",
                                            "campaign_id": str(campaign_id),
                                            "description": "Billboard"})
    assert added.status_code == 303 and added.headers["location"] == "/ui/settings#numbers"
    number = _one(engine, TrackingNumber)
    assert (number.number, number.kind.value, number.channel_id, number.campaign_id,
            number.description, number.is_active) == (
        "+74951234567", "static", channel_id, campaign_id, "Billboard", True)
    taken = k.post("/ui/settings/numbers", {"number": "+7 495 123 45 67"})
    assert taken.status_code == 409 and _error(taken) == "tracking number '+74951234567' already exists"
    junk = k.post("/ui/settings/numbers", {"number": "not a phone"})
    assert junk.status_code == 422 and "number" in _error(junk)
    assert _count(engine, TrackingNumber) == 1
    assert "Billboard" in k.get("/ui/settings").text
    # calls refer to numbers, so a number is switched off (and on again), never deleted
    assert k.post(f"/ui/settings/numbers/{number.id}/active").status_code == 303
    assert _one(engine, TrackingNumber).is_active is False
    assert k.post(f"/ui/settings/numbers/{number.id}/active",
                  {"is_active": "on"}).status_code == 303
    assert _one(engine, TrackingNumber).is_active is True


def test_an_admin_creates_a_user_and_changes_roles(people, browse, engine):
    x = browse("X")
    created = x.post("/ui/settings/users", {
        "email": "New.Manager@Shop-Fridges.RU", "name": "New manager",
        "role": "sales_manager", "team_id": str(people.teams["T2"]),
        "password": "long enough password"})
    assert created.status_code == 303, created.text
    user = _one(engine, User, User.email == "new.manager@shop-fridges.ru")
    assert (user.name, user.role, user.team_id) == (
        "New manager", Role.SALES_MANAGER, people.teams["T2"])
    # the new account signs in with its password
    with TestClient(create_app(people.app_engine)) as fresh:
        assert sign_in(fresh, "new.manager@shop-fridges.ru",
                       "long enough password").status_code == 303
    duplicate = x.post("/ui/settings/users", {"email": "new.manager@shop-fridges.ru",
                                              "name": "Again", "role": "analyst",
                                              "password": "long enough password"})
    assert duplicate.status_code == 409 and _error(duplicate) == "a user with e-mail new.manager@shop-fridges.ru exists"
    short = x.post("/ui/settings/users", {"email": "short@shop-fridges.ru", "name": "S",
                                          "role": "analyst", "password": "short"})
    assert short.status_code == 422 and _error(short) == "check the field(s): password"
    nameless = x.post("/ui/settings/users", {"email": "nameless@shop-fridges.ru",
                                             "name": "", "role": "analyst"})
    assert nameless.status_code == 422 and _error(nameless) == "check the field(s): name"
    assert _count(engine, User, User.name.in_(("Again", "S"))) == 0
    assert _count(engine, User, User.email == "nameless@shop-fridges.ru") == 0
    # promote M1, then demote them again
    assert x.post(f"/ui/settings/users/{people.users['M1']}/role",
                  {"role": "head_of_sales"}).status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(User, people.users["M1"]).role is Role.HEAD_OF_SALES


def test_the_last_admin_cannot_be_demoted_and_the_page_says_why(people, browse, engine):
    x = browse("X")
    refused = x.post(f"/ui/settings/users/{people.users['X']}/role", {"role": "analyst"})
    assert refused.status_code == 409
    assert _error(refused) == "the last active administrator cannot be demoted or deactivated"
    with unit_of_work(engine) as session:
        assert session.get(User, people.users["X"]).role is Role.ADMIN


def test_an_admin_renames_a_stage_and_changes_its_probability(people, browse, engine):
    sales = create_pipeline(people)
    url = f"/ui/settings/pipelines/{sales.id}/stages/{sales.stages['Qualified']}"
    x = browse("X")
    assert x.post(url, {"name": "Qualified lead", "probability": "35"}).status_code == 303
    stage = _one(engine, Stage, Stage.id == sales.stages["Qualified"])
    assert (stage.name, stage.probability) == ("Qualified lead", 35)
    too_high = x.post(url, {"name": "Qualified lead", "probability": "150"})
    assert too_high.status_code == 422 and _error(too_high) == "check the field(s): probability"
    empty = x.post(url, {"name": " ", "probability": "40"})
    assert empty.status_code == 422 and _error(empty) == "check the field(s): name"
    assert browse("K").post(url, {"name": "Marketing's", "probability": "90"}).status_code == 403
    stage = _one(engine, Stage, Stage.id == sales.stages["Qualified"])
    assert (stage.name, stage.probability) == ("Qualified lead", 35)
