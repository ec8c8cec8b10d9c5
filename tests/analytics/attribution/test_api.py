"""The attribution report over HTTP: through the catalogue, spend needs company-wide scope,
query mistakes name the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from voronka.campaign.models import Channel, ChannelKind, Touchpoint, TouchpointKind
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStatus
from voronka.pipeline.models import Pipeline, Stage, StageKind

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def _get(api, **query):  # type: ignore[no-untyped-def]
    return api.get("/api/v1/analytics/attribution",
                   params={"q": json.dumps({"period": MARCH, **query})})


def test_marketer_gets_every_model_on_an_empty_march(people):
    response = _get(people.http("K"), models=["first_touch", "markov"], level="campaign",
                    basis="paid_orders", order=2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["report"], body["rows"]) == ("attribution", [])
    assert body["row_counts"] == {"conversions": 0, "touched_conversions": 0,
                                  "untouched_conversions": 0, "non_converting_journeys": 0}
    assert body["formula"]["markov"].startswith("Markov chain (removal effect) / Цепь Маркова")


def test_spend_figures_need_company_wide_scope(people):
    manager = people.http("M1")
    assert _get(manager).status_code == 403  # ad_spend and romi by default
    assert _get(manager, metrics=[]).status_code == 200


def test_query_mistakes_name_the_field(people):
    response = _get(people.http("K"), models=["magic"])
    assert response.status_code == 422
    assert "models.0" in {d["field"] for d in response.json()["error"]["details"]}
    shares = _get(people.http("K"), first_share=0.7, last_share=0.7)
    assert shares.status_code == 422
    assert "first_share + last_share must be at most 1" in shares.text


def _won_deals(people, engine) -> None:  # type: ignore[no-untyped-def]
    """C1 (M1's client) and C3 (M3's) each touched once on seo and won a deal in March."""
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    with unit_of_work(engine) as session:
        seo = Channel(workspace_id=1, slug="seo", name="SEO", kind=ChannelKind.ORGANIC)
        pipeline = Pipeline(workspace_id=1, name="P")
        session.add_all([seo, pipeline])
        session.flush()
        won = Stage(workspace_id=1, pipeline_id=pipeline.id, name="won", position=0,
                    kind=StageKind.WON)
        session.add(won)
        session.flush()
        for label in ("C1", "C3"):
            client = people.clients[label]
            session.add(Touchpoint(workspace_id=1, client_id=client, kind=TouchpointKind.VISIT,
                                   occurred_at=datetime(2026, 3, 5, tzinfo=UTC),
                                   channel_id=seo.id))
            session.add(Deal(workspace_id=1, title="d", client_id=client,
                             pipeline_id=pipeline.id, stage_id=won.id, amount=Decimal("10"),
                             status=DealStatus.WON, closed_at=at, stage_entered_at=at,
                             created_at=at, updated_at=at))


def test_each_caller_sees_the_conversions_of_their_scope(people, engine):
    _won_deals(people, engine)
    for who, expected in (("M1", 1), ("M2", 0), ("K", 2)):
        response = _get(people.http(who), models=["first_touch"], metrics=[])
        assert response.status_code == 200, response.text
        assert response.json()["row_counts"]["conversions"] == expected, who
