"""Channels and campaigns over HTTP: CRUD, slug conflicts, UTM matching, who may write."""

from __future__ import annotations

from tests.order.support import fields_of, snapshot
from voronka.audit.models import AuditEvent
from voronka.campaign.models import Campaign, Channel

MARKETING_TABLES = (Channel, Campaign, AuditEvent)


def test_channel_crud_with_etags(people):
    api = people.http("K")
    created = api.post(
        "/api/v1/channels", json={"slug": "seo", "name": "Search engines", "kind": "organic"}
    )
    assert created.status_code == 201, created.text
    channel = created.json()
    assert (channel["slug"], channel["kind"], channel["is_paid"]) == ("seo", "organic", False)
    url = f"/api/v1/channels/{channel['id']}"
    assert api.patch(url, json={"name": "SEO"}).status_code == 428
    renamed = api.patch(url, json={"name": "SEO"}, headers={"If-Match": created.headers["etag"]})
    assert (renamed.status_code, renamed.json()["name"]) == (200, "SEO")
    assert api.delete(url, headers={"If-Match": created.headers["etag"]}).status_code == 412
    assert api.delete(url, headers={"If-Match": renamed.headers["etag"]}).status_code == 204
    assert api.get(url).status_code == 404


def test_channel_slug_is_unique_and_well_formed(people, setup, engine):
    api = people.http("K")
    before = snapshot(engine, *MARKETING_TABLES)
    taken = api.post(
        "/api/v1/channels", json={"slug": "yandex-direct", "name": "Copy", "kind": "paid_search"}
    )
    assert taken.status_code == 409
    assert fields_of(taken) == ["slug"]
    vk = api.get(f"/api/v1/channels/{setup.channels['vk']}")
    renamed = api.patch(
        f"/api/v1/channels/{setup.channels['vk']}",
        json={"slug": "yandex-direct"},
        headers={"If-Match": vk.headers["etag"]},
    )
    assert renamed.status_code == 409
    for slug in ("Yandex Direct", "-x", "", "x" * 65, "a;drop"):
        bad = api.post("/api/v1/channels", json={"slug": slug, "name": "N", "kind": "organic"})
        assert bad.status_code == 422, slug
        assert fields_of(bad) == ["slug"]
    bad_kind = api.post("/api/v1/channels", json={"slug": "tv", "name": "TV", "kind": "tv"})
    assert fields_of(bad_kind) == ["kind"]
    assert snapshot(engine, *MARKETING_TABLES) == before


def test_channel_and_campaign_lists(people, setup):
    api = people.http("M1")
    channels = api.get("/api/v1/channels", params={"sort": "-slug"}).json()
    assert [c["slug"] for c in channels["items"]] == ["yandex-direct", "vk-ads"]
    campaigns = api.get("/api/v1/campaigns", params={"channel_id": setup.channels["direct"]}).json()
    assert [c["name"] for c in campaigns["items"]] == ["brand", "spring"]
    assert campaigns["total"] == 2
    assert api.get("/api/v1/campaigns", params={"sort": "utm_source"}).status_code == 400


def test_only_admin_and_marketer_write_channels_and_campaigns(people, setup, engine):
    campaign_id = setup.campaigns["brand"]
    etag = people.http("K").get(f"/api/v1/campaigns/{campaign_id}").headers["etag"]
    before = snapshot(engine, *MARKETING_TABLES)
    for who in ("H", "M1", "M3", "A"):
        api = people.http(who)
        assert api.get(f"/api/v1/campaigns/{campaign_id}").status_code == 200
        calls = [
            api.post("/api/v1/channels", json={"slug": "x", "name": "X", "kind": "organic"}),
            api.post("/api/v1/campaigns", json={"channel_id": setup.channels["vk"], "name": "X"}),
            api.patch(
                f"/api/v1/campaigns/{campaign_id}", json={"name": "X"}, headers={"If-Match": etag}
            ),
            api.delete(f"/api/v1/campaigns/{campaign_id}", headers={"If-Match": etag}),
        ]
        assert [c.status_code for c in calls] == [403] * 4, who
    assert snapshot(engine, *MARKETING_TABLES) == before
    admin = people.http("X").patch(
        f"/api/v1/campaigns/{campaign_id}", json={"is_active": False}, headers={"If-Match": etag}
    )
    assert (admin.status_code, admin.json()["is_active"]) == (200, False)


def test_campaign_validation_names_the_field(people, setup, engine):
    api = people.http("K")
    before = snapshot(engine, *MARKETING_TABLES)
    cases = [
        ({"channel_id": 999, "name": "X"}, "channel_id"),
        (
            {
                "channel_id": setup.channels["vk"],
                "name": "X",
                "starts_on": "2026-03-10",
                "ends_on": "2026-03-01",
            },
            "ends_on",
        ),
        ({"channel_id": setup.channels["vk"], "name": "X", "utm_source": ""}, "utm_source"),
        ({"channel_id": setup.channels["vk"], "name": "X", "budget": "10"}, "budget"),
        ({"channel_id": "vk", "name": "X"}, "channel_id"),
    ]
    for payload, field in cases:
        response = api.post("/api/v1/campaigns", json=payload)
        assert response.status_code == 422, payload
        assert fields_of(response) == [field]
    assert snapshot(engine, *MARKETING_TABLES) == before


def test_match_finds_the_most_specific_campaign(people, setup):
    api = people.http("M1")

    def matched(**utm):
        response = api.get("/api/v1/campaigns/match", params=utm)
        return response.json()["name"] if response.status_code == 200 else response.status_code

    assert matched(utm_source="yandex", utm_medium="cpc", utm_campaign="spring") == "spring"
    assert matched(utm_source="yandex", utm_medium="cpc", utm_campaign="autumn") == "brand"
    assert matched(utm_source="yandex", utm_medium="cpc") == "brand"
    assert matched(utm_source="yandex") == 404
    assert matched(utm_source="Yandex", utm_medium="cpc") == 404
    assert (
        matched(utm_source="vk", utm_medium="social", utm_campaign="stories", utm_content="banner")
        == "stories"
    )
    assert matched() == 400


def test_match_ties_go_to_the_active_then_the_newest_campaign(people, setup):
    marketer = people.http("K")
    utm = {"utm_source": "vk", "utm_medium": "social", "utm_campaign": "stories"}
    newer = marketer.post(
        "/api/v1/campaigns", json={"channel_id": setup.channels["vk"], "name": "stories 2", **utm}
    )
    analyst = people.http("A")
    assert analyst.get("/api/v1/campaigns/match", params=utm).json()["name"] == "stories 2"
    marketer.patch(
        f"/api/v1/campaigns/{newer.json()['id']}",
        json={"is_active": False},
        headers={"If-Match": newer.headers["etag"]},
    )
    assert analyst.get("/api/v1/campaigns/match", params=utm).json()["name"] == "stories"


def test_campaign_in_use_is_not_deleted(people, setup, engine):
    api = people.http("K")
    campaign_id = setup.campaigns["spring"]
    api.put(
        "/api/v1/ad-spend",
        json={"rows": [{"campaign_id": campaign_id, "day": "2026-03-01", "cost": "1"}]},
    )
    etag = api.get(f"/api/v1/campaigns/{campaign_id}").headers["etag"]
    before = snapshot(engine, *MARKETING_TABLES)
    refused = api.delete(f"/api/v1/campaigns/{campaign_id}", headers={"If-Match": etag})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "in_use")
    channel_etag = api.get(f"/api/v1/channels/{setup.channels['direct']}").headers["etag"]
    channel = api.delete(
        f"/api/v1/channels/{setup.channels['direct']}", headers={"If-Match": channel_etag}
    )
    assert channel.status_code == 409
    assert snapshot(engine, *MARKETING_TABLES) == before
