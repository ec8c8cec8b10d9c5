"""Two moves of one deal from the same version: exactly one wins, one change is recorded."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm.exc import StaleDataError

from tests.pipeline.sample import create_deal, stage_changes
from voronka.db.session import session_factory
from voronka.deal import service as deal_service
from voronka.deal.models import Deal
from voronka.deal.schemas import DealMove


def _move(api, deal, etag, **body):
    return api.post(f"/api/v1/deals/{deal['id']}/move", json=body, headers={"If-Match": etag})


def test_second_move_with_the_same_etag_is_412(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    etag = people.http("H").get(f"/api/v1/deals/{deal['id']}").headers["etag"]
    won = _move(people.http("M1"), deal, etag, stage_id=sales.stages["Won"])
    assert won.status_code == 200
    lost = _move(people.http("H"), deal, etag, stage_id=sales.stages["Lost"], lost_reason="x")
    assert lost.status_code == 412
    assert lost.json()["error"]["code"] == "precondition_failed"
    assert [c[1] for c in stage_changes(engine, deal["id"])] == [
        sales.stages["New"],
        sales.stages["Won"],
    ]
    assert people.http("H").get(f"/api/v1/deals/{deal['id']}").json()["status"] == "won"


def test_concurrent_moves_to_won_record_one_transition(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    clients = [people.http("M1"), people.http("H")]
    start = threading.Barrier(len(clients))
    answers: list[int] = []

    def move(api):
        start.wait(timeout=10)
        answers.append(_move(api, deal, deal["etag"], stage_id=sales.stages["Won"]).status_code)

    threads = [threading.Thread(target=move, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [200, 412]
    assert [c[1] for c in stage_changes(engine, deal["id"])] == [
        sales.stages["New"],
        sales.stages["Won"],
    ]


def test_version_column_stops_a_move_from_a_stale_read(people, sales, engine):
    """The If-Match check passed for both; the UPDATE of the slower one finds a new version."""
    deal = create_deal(people, "M1", "C1")
    slower = session_factory(engine.execution_options(voronka_write=True))()
    try:
        stale_deal = slower.get_one(Deal, deal["id"])
        slower.commit()  # keeps the loaded state (expire_on_commit=False), as a request would
        won = _move(people.http("M1"), deal, deal["etag"], stage_id=sales.stages["Won"])
        assert won.status_code == 200
        with pytest.raises(StaleDataError):
            deal_service.move_to_stage(
                slower,
                actor=people.actor("H"),
                deal=stale_deal,
                data=DealMove(stage_id=sales.stages["Lost"], lost_reason="x"),
            )
        slower.rollback()
    finally:
        slower.close()
    assert [c[1] for c in stage_changes(engine, deal["id"])] == [
        sales.stages["New"],
        sales.stages["Won"],
    ]
