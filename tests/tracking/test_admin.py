"""Site and lead-form settings over HTTP with real sign-ins, the pool status, and the scope
of the visit list (a manager sees the visits of their own clients only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.tracking.support import ORIGIN, Shop, shop_fixture
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work
from voronka.lead.models import LeadForm
from voronka.tracking import service
from voronka.tracking.models import Site, SiteVisitor

CONTACT = [{"name": "phone", "kind": "phone", "required": True}]


@pytest.fixture
def cast_shop(engine, people) -> Iterator[tuple[Shop, object]]:
    for shop in shop_fixture(engine):
        yield shop, people


def test_marketers_register_sites_and_get_the_snippet(cast_shop):
    shop, people = cast_shop
    created = people.http("K").post("/api/v1/sites", json={
        "name": "Blog", "allowed_origins": ["https://Blog.Example/"],
        "default_number": "8 (495) 000-01-00"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["allowed_origins"], body["default_number"]) == (
        ["https://blog.example"], "+74950000100")
    assert body["snippet"] == (
        f'<script async src="http://testserver/t.js" data-site="{body["site_key"]}" '
        'data-endpoint="http://testserver"></script>')
    changed = people.http("K").patch(f"/api/v1/sites/{body['id']}", json={"is_active": False},
                                     headers={"If-Match": created.headers["etag"]})
    assert (changed.status_code, changed.json()["is_active"]) == (200, False)
    assert people.http("M1").post("/api/v1/sites", json={"name": "Mine"}).status_code == 403
    names = [s["name"] for s in people.http("A").get("/api/v1/sites").json()["items"]]
    assert names == ["Shop", "Blog"]


def test_bad_site_settings_name_the_field(cast_shop):
    shop, people = cast_shop
    for payload, field in (
        ({"name": "x", "allowed_origins": ["https://shop.example/path"]}, "allowed_origins.0"),
        ({"name": "x", "allowed_origins": ["javascript:alert(1)"]}, "allowed_origins.0"),
        ({"name": "x", "default_number": "12"}, "default_number"),
        ({"name": "x", "site_key": "mine"}, "site_key"),
    ):
        response = people.http("K").post("/api/v1/sites", json=payload)
        assert response.status_code == 422, payload
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert shop.count(Site) == 1


def test_the_pool_status_counts_numbers_in_use_and_fallbacks(cast_shop):
    shop, people = cast_shop
    for visitor in ("visitor-a-0000000001", "visitor-b-0000000002", "visitor-c-0000000003"):
        assert shop.ask_number(visitor=visitor).status_code == 200
    status = people.http("K").get("/api/v1/number-pool").json()
    assert {k: status[k] for k in ("pool_size", "in_use", "free", "reservations",
                                   "fallbacks")} == {
        "pool_size": 2, "in_use": 2, "free": 0, "reservations": 2, "fallbacks": 1}
    wrong = people.http("K").get("/api/v1/number-pool", params={
        "since": "2026-03-02T10:00:00+00:00", "until": "2026-03-02T09:00:00+00:00"})
    assert wrong.status_code == 422


def test_the_visit_list_follows_the_client_scope(cast_shop):
    shop, people = cast_shop
    keys = {"C1": "visitor-of-c1-000001", "C2": "visitor-of-c2-000002",
            None: "visitor-anonymous-03"}
    for view, key in enumerate(keys.values()):
        assert shop.hit(visitor=key, view=f"view-{view:04d}").status_code == 202
    with unit_of_work(shop.engine) as session:
        for label, key in keys.items():
            if label is not None:
                visitor = session.scalar(select(SiteVisitor).where(
                    SiteVisitor.visitor_key == key))
                service.link_visitor(session, visitor=visitor, client_id=people.clients[label],
                                     how="call", at=visitor.first_seen_at)

    def seen(who: str) -> list[str]:
        response = people.http(who).get("/api/v1/visits")
        assert response.status_code == 200, response.text
        return sorted(v["visitor_key"] for v in response.json()["items"])

    assert seen("M1") == [keys["C1"]]
    assert seen("M2") == [keys["C2"]]
    assert seen("M3") == []
    assert seen("H") == sorted([keys["C1"], keys["C2"]])
    assert seen("K") == sorted(keys.values())  # marketers see every visit, anonymous too
    assert people.http("A").get("/api/v1/visits").status_code == 403
    by_client = people.http("M1").get("/api/v1/visits",
                                      params={"client_id": people.clients["C2"]})
    assert by_client.json()["total"] == 0  # another's client: nothing, not an error
    with unit_of_work(shop.engine, write=False) as session:
        listed = session.scalar(select(AuditEvent).where(AuditEvent.entity == "site_visit",
                                                         AuditEvent.actor_id ==
                                                         people.users["M1"]))
        assert listed is not None and listed.action == "list"


def test_lead_forms_are_set_up_by_marketers_and_never_show_their_secrets(cast_shop):
    shop, people = cast_shop
    created = people.http("K").post("/api/v1/lead-forms", json={
        "name": "Callback", "fields": CONTACT, "site_id": shop.site_id,
        "campaign_id": shop.campaigns["spring"], "secret": "0123456789abcdef-secret"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["signed"], body["campaign_id"], body["min_fill_seconds"]) == (
        True, shop.campaigns["spring"], 3)
    assert "secret" not in body and "token_key" not in body
    public = shop.browser.get(f"/api/v1/forms/{body['form_key']}").json()
    assert set(public) == {"name", "fields", "honeypot", "token"}
    for payload, field in (
        ({"name": "x", "fields": [{"name": "comment", "kind": "text"}]}, "fields"),
        ({"name": "x", "fields": CONTACT, "campaign_id": shop.campaigns["spring"],
          "channel_id": shop.channels["vk"]}, "campaign_id"),
        ({"name": "x", "fields": CONTACT, "pipeline_id": 999}, "pipeline_id"),
        ({"name": "x", "fields": CONTACT, "honeypot_field": "phone"}, ""),
    ):
        response = people.http("K").post("/api/v1/lead-forms", json=payload)
        assert response.status_code == 422, payload
        if field:
            assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert people.http("M1").post("/api/v1/lead-forms", json={
        "name": "x", "fields": CONTACT}).status_code == 403
    changed = people.http("K").patch(f"/api/v1/lead-forms/{body['id']}",
                                     json={"min_fill_seconds": 5},
                                     headers={"If-Match": created.headers["etag"]})
    assert changed.json()["min_fill_seconds"] == 5
    assert shop.count(LeadForm) == 1
    listed = people.http("K").get(f"/api/v1/lead-forms/{body['id']}/submissions").json()
    assert (listed["total"], listed["items"]) == (0, [])
    assert people.http("K").get("/api/v1/lead-forms/999/submissions").status_code == 404


def test_page_origins_compare_case_insensitively(cast_shop):
    shop, _ = cast_shop
    assert shop.hit(url="HTTPS://SHOP.EXAMPLE/Sale").status_code == 202  # hosts ignore case
    assert shop.hit(url=f"{ORIGIN}:8443/", view="view-0002").status_code == 403  # not the port
