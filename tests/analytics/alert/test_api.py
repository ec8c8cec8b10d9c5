"""The alerts job, endpoint and report over HTTP, on SQLite and PostgreSQL.

Leads of the cast's client C1 on three Tuesdays (10 each: 6 by "ads", 4 by "seo") and on the
Tuesday checked (6, all "ads"): the job stores one "leads" alert explained by channel.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.analytics.experiment.test_api import _leads as campaign_leads
from voronka.analytics.alert.models import MetricAlert
from voronka.campaign.models import Channel, ChannelKind
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal
from voronka.jobs import enqueue, run_pending
from voronka.jobs.models import Job, JobStatus
from voronka.pipeline.models import Pipeline, Stage, StageKind

CHECKED = datetime(2026, 3, 24, 7, tzinfo=UTC)  # a Tuesday, 10:00 in Moscow


def _leads(people, engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        pipeline = Pipeline(workspace_id=1, name="P")
        session.add(pipeline)
        session.flush()
        stage = Stage(workspace_id=1, pipeline_id=pipeline.id, name="new", position=0,
                      kind=StageKind.OPEN)
        channels = {slug: Channel(workspace_id=1, slug=slug, name=slug.title(),
                                  kind=ChannelKind.ORGANIC, is_paid=False)
                    for slug in ("ads", "seo")}
        session.add_all([stage, *channels.values()])
        session.flush()
        for weeks_back in range(4):
            for slug, count in (("ads", 6), ("seo", 0 if weeks_back == 0 else 4)):
                for i in range(count):
                    at = CHECKED - timedelta(weeks=weeks_back) + timedelta(minutes=i)
                    session.add(Deal(workspace_id=1, title="d", client_id=people.clients["C1"],
                                     pipeline_id=pipeline.id, stage_id=stage.id,
                                     amount=Decimal(1), channel_id=channels[slug].id,
                                     owner_id=people.users["M1"], stage_entered_at=at,
                                     created_at=at, updated_at=at))
        session.flush()
        return {slug: c.id for slug, c in channels.items()}


def _detect(engine, key: str) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        enqueue(session, "alerts.detect", {"day": "2026-03-24", "weeks": 3,
                                           "metrics": ["leads", "won_deals"]}, key=key)
    assert run_pending(engine) == 1
    with unit_of_work(engine, write=False) as session:
        job = session.scalars(select(Job).where(Job.key == key)).one()
        assert job.status is JobStatus.DONE, job.error


def test_the_job_stores_a_drop_once_and_company_wide_roles_list_it(people, engine):
    channels = _leads(people, engine)
    _detect(engine, "alerts-1")
    _detect(engine, "alerts-2")  # the same day again: nothing new
    with unit_of_work(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(MetricAlert)) == 1

    for who in ("H", "M1"):
        assert people.http(who).get("/api/v1/alerts").status_code == 403, who
    page = people.http("K").get("/api/v1/alerts").json()
    assert page["total"] == 1
    alert = page["items"][0]
    # 6 leads against a median of 10: −40 %; seo (0 instead of 4) explains all of it
    assert (alert["metric"], alert["day"], alert["value"], alert["expected"]) == (
        "leads", "2026-03-24", 6.0, 10.0)
    assert (alert["label_en"], alert["label_ru"]) == ("Leads", "Лиды")
    assert alert["change_pct"] == -40.0
    assert alert["breakdown"] == "channel"
    top = alert["segments"][0]
    assert (top["key"], top["label"], top["share"]) == (channels["seo"], "Seo", 1.0)
    assert people.http("A").get("/api/v1/alerts", params={"metric": "revenue"}).json()[
        "total"] == 0


def test_alerts_report_runs_within_scope_and_names_bad_fields(people, engine):
    campaign_leads(people, engine)
    api = people.http("M3")
    query = {"day": "2026-03-10", "metrics": ["leads"], "weeks": 3}
    response = api.get("/api/v1/analytics/alerts", params={"q": json.dumps(query)})
    assert response.status_code == 200, response.text
    row = response.json()["rows"][0]
    assert (row["value"], row["alert"]) == (2.0, False)  # M3's two leads; no history to judge
    bad = api.get("/api/v1/analytics/alerts", params={"q": json.dumps({**query, "weeks": 1})})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "weeks"
    spend = api.get("/api/v1/analytics/alerts",
                    params={"q": json.dumps({**query, "metrics": ["cpl"]})})
    assert spend.status_code == 403  # spend figures need company-wide scope
