"""Lead scoring over HTTP and through the retrain job, on SQLite and PostgreSQL.

Sixty closed deals (every third won) and one open deal per client C1 (M1), C2 (M2) and
C3 (M3, the other team) are stored; a head of sales queues a retrain, the job runs, and each
role sees the scores of exactly the deals it may read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from voronka.analytics.scoring.models import DealScore, ModelRun, RunStatus
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStatus
from voronka.jobs import run_pending
from voronka.jobs.models import Job, JobStatus
from voronka.pipeline.models import Pipeline, Stage, StageKind
from voronka.workspace.models import Workspace

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _deals(people, engine, closed: int = 60) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """``closed`` closed deals over C1..C3, then one open deal each; returns the open ids."""
    with unit_of_work(engine) as session:
        pipeline = Pipeline(workspace_id=1, name="P")
        session.add(pipeline)
        session.flush()
        stages = {}
        for position, (name, kind) in enumerate((("new", StageKind.OPEN),
                                                  ("won", StageKind.WON),
                                                  ("lost", StageKind.LOST))):
            stages[name] = Stage(workspace_id=1, pipeline_id=pipeline.id, name=name,
                                 position=position, kind=kind)
            session.add(stages[name])
        session.flush()
        labels = ("C1", "C2", "C3")
        open_ids = {}
        for i in range(closed + 3):
            label = labels[i % 3]
            at = START + timedelta(days=i)
            status = (DealStatus.OPEN if i >= closed
                      else DealStatus.WON if i % 3 == 0 else DealStatus.LOST)
            stage = {"open": "new", "won": "won", "lost": "lost"}[status.value]
            deal = Deal(workspace_id=1, title=f"deal {i}", client_id=people.clients[label],
                        pipeline_id=pipeline.id, stage_id=stages[stage].id, status=status,
                        amount=Decimal(1000 + 100 * i), owner_id=people.users["M" + label[1]],
                        stage_entered_at=at, created_at=at, updated_at=at,
                        closed_at=None if status is DealStatus.OPEN else at + timedelta(days=2))
            session.add(deal)
            session.flush()
            if status is DealStatus.OPEN:
                open_ids[label] = deal.id
    return open_ids


def test_retrain_job_scores_open_deals_within_each_scope(people, engine):
    open_ids = _deals(people, engine)
    for who in ("M1", "K", "A"):
        assert people.http(who).post("/api/v1/scoring/retrain").status_code == 403, who
    queued = people.http("H").post("/api/v1/scoring/retrain")
    assert queued.status_code == 202, queued.text
    again = people.http("X").post("/api/v1/scoring/retrain")
    assert again.json() == queued.json()  # one retrain at a time

    assert run_pending(engine) == 1
    with unit_of_work(engine, write=False) as session:
        job = session.get(Job, queued.json()["job_id"])
        assert job.status is JobStatus.DONE, job.error
        run = session.scalars(select(ModelRun)).one()
        assert (run.status, run.version, run.training_rows, run.scored_rows) == (
            RunStatus.READY, 1, 60, 3)
        assert session.scalar(select(func.count()).select_from(DealScore)) == 3
        assert Path(run.artefact).name == "lead_scoring-w1-v1.joblib"
        assert Path(run.artefact).is_file()

    expected = {"X": {"C1", "C2", "C3"}, "H": {"C1", "C2"}, "M1": {"C1"}, "M3": {"C3"}}
    for who, labels in expected.items():
        page = people.http(who).get("/api/v1/scoring/deals").json()
        assert page["total"] == len(labels), who
        assert {item["deal_id"] for item in page["items"]} == {open_ids[x] for x in labels}
        probabilities = [item["probability"] for item in page["items"]]
        assert probabilities == sorted(probabilities, reverse=True)
    assert people.http("K").get("/api/v1/scoring/deals").status_code == 403

    mine = people.http("M1").get(f"/api/v1/scoring/deals/{open_ids['C1']}")
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert 0.0 <= body["probability"] <= 1.0
    assert len(body["contributions"]) == 10
    assert {c["feature"] for c in body["contributions"]} >= {"manager", "channel", "log_amount"}
    # another manager's deal is not found, exactly like a missing one
    assert people.http("M1").get(f"/api/v1/scoring/deals/{open_ids['C2']}").status_code == 404
    assert people.http("M1").get("/api/v1/scoring/deals/999999").status_code == 404

    assert people.http("M1").get("/api/v1/scoring/runs/latest").status_code == 403
    latest = people.http("A").get("/api/v1/scoring/runs/latest").json()
    assert (latest["status"], latest["version"]) == ("ready", 1)
    backtest = latest["metrics"]["backtest"]
    assert (backtest["train_deals"], backtest["test_deals"]) == (48, 12)
    assert {"auc", "brier", "log_loss", "lift_by_decile", "calibration"} <= set(backtest)


def test_too_few_closed_deals_fail_the_run_with_a_reason(people, engine):
    _deals(people, engine, closed=12)
    assert people.http("X").post("/api/v1/scoring/retrain").status_code == 202
    assert run_pending(engine) == 1
    with unit_of_work(engine, write=False) as session:
        run = session.scalars(select(ModelRun)).one()
        assert run.status is RunStatus.FAILED
        assert run.error == ("lead scoring needs at least 50 closed deals, won and lost; "
                             "the store has 12")
        assert session.scalar(select(func.count()).select_from(DealScore)) == 0
        assert session.get(Workspace, 1) is not None
    latest = people.http("X").get("/api/v1/scoring/runs/latest").json()
    assert latest["status"] == "failed"
    assert people.http("X").get("/api/v1/scoring/deals").json()["total"] == 0
