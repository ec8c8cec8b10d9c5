"""Listing deals: every filter, title search, sorting and paging."""

from __future__ import annotations

from sqlalchemy import select

from tests.pipeline.sample import create_deal, create_pipeline
from voronka.campaign.models import Campaign, Channel, ChannelKind
from voronka.db.session import unit_of_work


def _titles(people, who="X", **params):
    response = people.http(who).get("/api/v1/deals", params=params)
    assert response.status_code == 200, response.text
    return [d["title"] for d in response.json()["items"]]


def _channel_and_campaign(engine):
    with unit_of_work(engine) as session:
        channel = Channel(
            workspace_id=1,
            slug="direct",
            name="Yandex Direct",
            kind=ChannelKind.PAID_SEARCH,
            is_paid=True,
        )
        session.add(channel)
        session.flush()
        campaign = Campaign(workspace_id=1, channel_id=channel.id, name="Spring")
        session.add(campaign)
        session.flush()
        return channel.id, campaign.id


def test_title_search_folds_case_in_every_alphabet_and_keeps_wildcards_literal(people, sales):
    for title in ("Ёлочные игрушки", "ЁЛКА оптом", "100% discount", "1000 discount", "a_b"):
        create_deal(people, "M1", "C1", title=title)
    assert _titles(people, q="ёл", sort="title") == ["ЁЛКА оптом", "Ёлочные игрушки"]
    assert _titles(people, q="ЁЛОЧ") == ["Ёлочные игрушки"]
    assert _titles(people, q="100%") == ["100% discount"]
    assert _titles(people, q="_") == ["a_b"]
    assert _titles(people, q="DISCOUNT", sort="title") == ["100% discount", "1000 discount"]


def test_filters_narrow_the_list(people, sales, frozen, engine):
    channel_id, campaign_id = _channel_and_campaign(engine)
    partners = create_pipeline(people, "Partners", is_default=False)
    create_deal(people, "M1", "C1", title="early", amount="10.00")
    frozen.advance(hours=1)
    create_deal(people, "M2", "C2", title="campaign", amount="20.50", campaign_id=campaign_id)
    frozen.advance(hours=1)
    create_deal(people, "M3", "C3", title="partner", amount="30.00", pipeline_id=partners.id)
    won = create_deal(people, "M1", "C1", title="won", stage_id=sales.stages["Won"])
    c2 = people.clients["C2"]
    assert _titles(people, pipeline_id=partners.id) == ["partner"]
    assert _titles(people, stage_id=sales.stages["Won"]) == ["won"]
    assert _titles(people, status="won") == ["won"]
    assert _titles(people, owner_id=people.users["M3"]) == ["partner"]
    assert _titles(people, client_id=c2) == ["campaign"]
    assert _titles(people, channel_id=channel_id) == ["campaign"]
    assert _titles(people, campaign_id=campaign_id) == ["campaign"]
    assert _titles(people, created_from="2026-03-02T10:00:00Z", sort="id") == [
        "campaign",
        "partner",
        "won",
    ]
    assert _titles(people, created_to="2026-03-02T10:00:00Z") == ["early"]
    assert _titles(people, closed_from=won["closed_at"]) == ["won"]
    assert _titles(people, closed_to="2026-03-02T11:00:00Z") == []
    assert _titles(people, amount_min="20.50", sort="amount") == ["campaign", "partner"]
    assert _titles(people, amount_max="20.5", sort="-amount") == ["campaign", "early", "won"]


def test_campaign_gives_the_deal_its_channel(people, sales, engine):
    channel_id, campaign_id = _channel_and_campaign(engine)
    deal = create_deal(people, "M1", "C1", campaign_id=campaign_id)
    assert (deal["channel_id"], deal["campaign_id"]) == (channel_id, campaign_id)
    with unit_of_work(engine) as session:
        other = Channel(workspace_id=1, slug="seo", name="SEO", kind=ChannelKind.ORGANIC)
        session.add(other)
        session.flush()
        other_id = other.id
    response = people.http("M1").post(
        "/api/v1/deals",
        json={
            "title": "x",
            "client_id": people.clients["C1"],
            "channel_id": other_id,
            "campaign_id": campaign_id,
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "campaign_id"
    with unit_of_work(engine) as session:
        assert session.scalars(select(Campaign.channel_id)).all() == [channel_id]


def test_sorting_and_paging(people, sales):
    for amount in ("3.00", "1.00", "2.00"):
        create_deal(people, "M1", "C1", title=f"deal {amount}", amount=amount)
    assert _titles(people, sort="amount") == ["deal 1.00", "deal 2.00", "deal 3.00"]
    page = (
        people.http("X")
        .get("/api/v1/deals", params={"sort": "-amount", "page": 2, "page_size": 2})
        .json()
    )
    assert (
        [d["title"] for d in page["items"]],
        page["total"],
        page["page"],
        page["page_size"],
    ) == (["deal 1.00"], 3, 2, 2)


def test_bad_list_parameters_are_refused(people, sales):
    api = people.http("M1")
    unknown_sort = api.get("/api/v1/deals", params={"sort": "lost_reason"})
    assert unknown_sort.status_code == 400
    assert unknown_sort.json()["error"]["details"][0] == {
        "field": "sort",
        "message": "not sortable",
        "value": "lost_reason",
    }
    for params, field in (
        ({"amount_min": "1.001"}, "amount_min"),
        ({"amount_max": "-1"}, "amount_max"),
        ({"status": "maybe"}, "status"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"pipeline_id": "x"}, "pipeline_id"),
    ):
        response = api.get("/api/v1/deals", params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["details"][0]["field"] == field
