"""Reports over HTTP: the caller's record scope, role checks, query errors naming fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStageChange
from voronka.pipeline.models import Pipeline, Stage, StageKind

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def _deals(people, engine) -> None:  # type: ignore[no-untyped-def]
    """C1 (M1) gets 2 leads in March, C2 (M2) 1, C3 (M3, other team) 3."""
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    with unit_of_work(engine) as session:
        pipeline = Pipeline(workspace_id=1, name="P")
        session.add(pipeline)
        session.flush()
        stage = Stage(workspace_id=1, pipeline_id=pipeline.id, name="new", position=0,
                      kind=StageKind.OPEN)
        session.add(stage)
        session.flush()
        for label, count in (("C1", 2), ("C2", 1), ("C3", 3)):
            for _ in range(count):
                deal = Deal(workspace_id=1, title="d", client_id=people.clients[label],
                            pipeline_id=pipeline.id, stage_id=stage.id, amount=Decimal("1"),
                            owner_id=None, stage_entered_at=at, created_at=at, updated_at=at)
                session.add(deal)
                session.flush()
                session.add(DealStageChange(workspace_id=1, deal_id=deal.id,
                                            to_stage_id=stage.id, changed_at=at))


def _leads(api, **extra) -> tuple[int, float | None]:  # type: ignore[no-untyped-def]
    query = {"period": MARCH, "metrics": ["leads"], "compare": False, **extra}
    response = api.get("/api/v1/analytics/metrics", params={"q": json.dumps(query)})
    return response.status_code, (response.json()["rows"][0]["value"]
                                  if response.status_code == 200 else None)


def test_each_role_sees_the_totals_of_its_scope(people, engine):
    _deals(people, engine)
    expected = {"X": 6, "H": 3, "H2": 3, "M1": 2, "M2": 1, "M3": 3, "K": 6, "A": 6}
    assert {who: _leads(people.http(who))[1] for who in expected} == expected


def test_spend_metrics_need_the_right_to_read_spend_and_company_scope(people, engine):
    for who in ("M1", "H"):  # managers may not read spend; a head's scope is one team
        response = people.http(who).get("/api/v1/analytics/metrics", params={"q": json.dumps(
            {"period": MARCH, "metrics": ["cpl"]})})
        assert response.status_code == 403, who
    ok = people.http("K").get("/api/v1/analytics/metrics", params={"q": json.dumps(
        {"period": MARCH, "metrics": ["cpl"], "compare": False})})
    assert ok.status_code == 200, ok.text
    assert ok.json()["rows"][0]["value"] is None  # no spend, no leads → undefined


def test_bad_queries_name_the_field(people):
    api = people.http("X")
    cases = [
        ({"period": {"start": "2026-03-31", "end": "2026-03-01"}}, "period"),
        ({"period": MARCH, "metrics": ["nonsense"]}, "metrics"),
        ({"period": MARCH, "breakdown": "weather"}, "breakdown"),
        ({"period": MARCH, "surprise": 1}, "surprise"),
    ]
    for query, field in cases:
        response = api.get("/api/v1/analytics/metrics", params={"q": json.dumps(query)})
        assert response.status_code == 422, (query, response.text)
        assert any(d["field"].startswith(field) for d in response.json()["error"]["details"])
    assert api.get("/api/v1/analytics/metrics", params={"q": "{oops"}).status_code == 400
    assert api.get("/api/v1/analytics/nothing").status_code == 404


def test_catalogue_and_registry(people):
    api = people.http("A")
    names = {r["name"] for r in api.get("/api/v1/analytics/reports").json()}
    assert "metrics" in names
    registry = {m["slug"]: m for m in api.get("/api/v1/analytics/metrics-registry").json()}
    assert registry["cpl"]["formula"] == "ad spend ÷ leads"
    assert registry["cpl"]["label_ru"] == "Стоимость лида (CPL)"


def test_drilldown_lists_the_records_behind_a_figure_within_scope(people, engine):
    _deals(people, engine)
    query = {"period": MARCH, "measure": "leads"}
    as_m1 = people.http("M1").get("/api/v1/analytics/drilldown", params={"q": json.dumps(query)})
    assert as_m1.status_code == 200, as_m1.text
    ids = [row["id"] for row in as_m1.json()["rows"]]
    assert len(ids) == 2 and {row["entity"] for row in as_m1.json()["rows"]} == {"deal"}
    for deal_id in ids:
        assert people.http("M1").get(f"/api/v1/deals/{deal_id}").status_code == 200
    assert len(people.http("X").get("/api/v1/analytics/drilldown",
                                     params={"q": json.dumps(query)}).json()["rows"]) == 6
    for who in ("K", "A"):  # aggregates yes, the records behind them no
        denied = people.http(who).get("/api/v1/analytics/drilldown",
                                      params={"q": json.dumps(query)})
        assert denied.status_code == 403


def test_funnel_report_and_dropped_deals_over_http(people, engine):
    _deals(people, engine)  # six deals, all still in the first stage "new"
    api = people.http("M1")
    with unit_of_work(engine) as session:
        stage_id = session.scalars(select(Stage.id)).one()
        pipeline_id = session.scalars(select(Pipeline.id)).one()
        won = Stage(workspace_id=1, pipeline_id=pipeline_id, name="won", position=1,
                    kind=StageKind.WON)
        session.add(won)
        session.flush()
        won_id = won.id
    query = json.dumps({"period": MARCH, "steps": [stage_id, won_id]})
    report = api.get("/api/v1/analytics/funnel", params={"q": query})
    assert report.status_code == 200, report.text
    assert [(r["step"], r["entered"]) for r in report.json()["rows"]] == [(1, 2), (2, 0)]
    dropped = api.get("/api/v1/analytics/funnel/dropped", params={"q": query, "step": 2})
    assert dropped.status_code == 200, dropped.text
    assert len(dropped.json()["rows"]) == 2  # M1's two deals, not the others'
    assert people.http("K").get("/api/v1/analytics/funnel/dropped",
                                params={"q": query, "step": 2}).status_code == 403


def _clients(who: str, people, **query):  # type: ignore[no-untyped-def]
    return people.http(who).get("/api/v1/analytics/clients",
                                params={"q": json.dumps({"period": MARCH, **query})})


def test_client_rows_need_the_right_to_read_clients_and_are_audited(people, engine):
    from voronka.audit.models import AuditEvent

    _deals(people, engine)
    for who in ("K", "A"):  # marketers and analysts read aggregates, not client records
        for section in ("rating", "rfm"):
            denied = _clients(who, people, section=section)
            assert denied.status_code == 403, (who, section)
            assert "client" in denied.json()["error"]["message"]
        summary = _clients(who, people, section="summary")
        assert summary.status_code == 200, summary.text
        assert all("client_name" not in row for row in summary.json()["rows"])
        ltv = people.http(who).get("/api/v1/analytics/ltv", params={"q": json.dumps(
            {"as_of": "2026-03-31", "section": "clients"})})
        assert ltv.status_code == 403, who
    # a manager's rating lists only the clients of their scope, and the listing is audited
    rating = _clients("M1", people, section="rating")
    assert rating.status_code == 200, rating.text
    assert {row["client_id"] for row in rating.json()["rows"]} == {people.clients["C1"]}
    with unit_of_work(engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "client",
                                                         AuditEvent.action == "list")
                                .order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.row_count == 1
        assert event.detail["view"] == "report:clients"
        assert event.detail["query"]["section"] == "rating"
