"""GET /api/v1/jobs/{id}: people see the progress of the jobs they started, nobody else's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from tests.fixtures import Cast
from voronka.db.session import unit_of_work
from voronka.jobs import enqueue
from voronka.jobs.queue import save_progress


def _started_by(engine: Engine, people: Cast, who: str) -> int:
    with unit_of_work(engine) as session:
        job_id = enqueue(session, "test.add_team", {"name": who}, workspace_id=1,
                         created_by_id=people.users[who])
        save_progress(session, job_id, 250, 1000, {"next": 250}, timedelta(minutes=1))
        return job_id


def test_the_starter_sees_progress_and_others_do_not(engine: Engine, people: Cast):
    import tests.jobs.test_jobs  # noqa: F401 - registers the test job kinds

    job_id = _started_by(engine, people, "M1")
    mine = people.http("M1").get(f"/api/v1/jobs/{job_id}")
    assert mine.status_code == 200
    body = mine.json()
    assert (body["status"], body["progress_done"], body["progress_total"]) == ("queued", 250,
                                                                               1000)
    assert "state" not in body and "payload" not in body  # internals stay inside
    assert people.http("X").get(f"/api/v1/jobs/{job_id}").status_code == 200
    for other in ("M2", "H", "K", "A"):
        refused = people.http(other).get(f"/api/v1/jobs/{job_id}")
        assert refused.status_code == 404, other
        assert refused.json()["error"]["code"] == "not_found"
