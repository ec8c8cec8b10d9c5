"""The experiment report over HTTP: each role's record scope decides the units."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from voronka.campaign.models import Campaign, Channel, ChannelKind
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStatus
from voronka.pipeline.models import Pipeline, Stage, StageKind

AT = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _leads(people, engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Campaign "a": C1 (M1) 2 leads, 1 won; C3 (M3) 2 leads. Campaign "b": C2 (M2) 3, 2 won."""
    with unit_of_work(engine) as session:
        pipeline = Pipeline(workspace_id=1, name="P")
        channel = Channel(workspace_id=1, slug="ads", name="Ads", kind=ChannelKind.PAID_SEARCH,
                          is_paid=True)
        session.add_all([pipeline, channel])
        session.flush()
        stage = Stage(workspace_id=1, pipeline_id=pipeline.id, name="new", position=0,
                      kind=StageKind.OPEN)
        campaigns = [Campaign(workspace_id=1, channel_id=channel.id, name=name)
                     for name in ("a", "b")]
        session.add_all([stage, *campaigns])
        session.flush()
        plan = [("C1", 0, True), ("C1", 0, False), ("C3", 0, False), ("C3", 0, False),
                ("C2", 1, True), ("C2", 1, True), ("C2", 1, False)]
        for i, (client, campaign, won) in enumerate(plan):
            at = AT + timedelta(hours=i)
            session.add(Deal(workspace_id=1, title="d", client_id=people.clients[client],
                             pipeline_id=pipeline.id, stage_id=stage.id, amount=Decimal(1),
                             campaign_id=campaigns[campaign].id, channel_id=channel.id,
                             status=DealStatus.WON if won else DealStatus.LOST,
                             closed_at=at + timedelta(days=1), stage_entered_at=at,
                             created_at=at, updated_at=at))
        session.flush()
        return campaigns[0].id, campaigns[1].id


def _units(api, ids: tuple[int, int]) -> dict[str, tuple[int, float]]:  # type: ignore[no-untyped-def]
    query = {"period": {"start": "2026-03-01", "end": "2026-03-31"}, "campaign_ids": list(ids)}
    response = api.get("/api/v1/analytics/experiment", params={"q": json.dumps(query)})
    assert response.status_code == 200, response.text
    return {r["variant"]: (r["units"], r["value"]) for r in response.json()["rows"]
            if r["row_type"] == "variant" and r["figure"] == "conversion"}


def test_each_role_compares_the_leads_of_its_scope(people, engine):
    ids = _leads(people, engine)
    assert _units(people.http("X"), ids) == {"a": (4, 0.25), "b": (3, 2 / 3)}
    assert _units(people.http("K"), ids) == {"a": (4, 0.25), "b": (3, 2 / 3)}
    assert _units(people.http("H"), ids) == {"a": (2, 0.5), "b": (3, 2 / 3)}  # team T1
    assert _units(people.http("M1"), ids) == {"a": (2, 0.5), "b": (0, None)}

