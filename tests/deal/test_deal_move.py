"""Moving deals between stages: the lifecycle, every transition rule, the history."""

from __future__ import annotations

from sqlalchemy import select

from tests.pipeline.sample import create_deal, create_pipeline, snapshot, stage_changes
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work


def _move(people, who, deal, etag=None, **body):
    headers = {"If-Match": etag or deal["etag"]}
    return people.http(who).post(f"/api/v1/deals/{deal['id']}/move", json=body, headers=headers)


def _refused(response, status, code, field):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert field in [d.get("field") for d in error["details"]], error


def test_full_lifecycle_to_won_with_durations(people, sales, frozen, engine):
    deal = create_deal(people, "M1", "C1", amount="100.00")
    frozen.advance(hours=1)
    qualified = _move(people, "M1", deal, stage_id=sales.stages["Qualified"])
    assert qualified.status_code == 200, qualified.text
    assert qualified.headers["etag"] == f'"{deal["id"]}-2"'
    frozen.advance(hours=2)
    won = _move(people, "M1", deal, qualified.headers["etag"], stage_id=sales.stages["Won"])
    body = won.json()
    assert (body["stage_id"], body["status"], body["closed_at"], body["stage_entered_at"]) == (
        sales.stages["Won"],
        "won",
        "2026-03-02T12:00:00Z",
        "2026-03-02T12:00:00Z",
    )
    frozen.advance(minutes=30)
    history = people.http("M1").get(f"/api/v1/deals/{deal['id']}/history").json()
    m1 = people.users["M1"]
    assert history["deal_id"] == deal["id"]
    assert [
        (
            i["from_stage_id"],
            i["to_stage_id"],
            i["to_stage_name"],
            i["changed_at"],
            i["changed_by_id"],
            i["left_at"],
            i["duration_seconds"],
        )
        for i in history["items"]
    ] == [
        (
            None,
            sales.stages["New"],
            "New",
            "2026-03-02T09:00:00Z",
            m1,
            "2026-03-02T10:00:00Z",
            3600.0,
        ),
        (
            sales.stages["New"],
            sales.stages["Qualified"],
            "Qualified",
            "2026-03-02T10:00:00Z",
            m1,
            "2026-03-02T12:00:00Z",
            7200.0,
        ),
        (
            sales.stages["Qualified"],
            sales.stages["Won"],
            "Won",
            "2026-03-02T12:00:00Z",
            m1,
            None,
            1800.0,
        ),
    ]
    assert stage_changes(engine, deal["id"]) == [
        (None, sales.stages["New"], m1),
        (sales.stages["New"], sales.stages["Qualified"], m1),
        (sales.stages["Qualified"], sales.stages["Won"], m1),
    ]
    first_two = (
        people.http("M1")
        .get(f"/api/v1/deals/{deal['id']}/history", params={"limit": 2})
        .json()["items"]
    )
    assert [(i["left_at"], i["duration_seconds"]) for i in first_two] == [
        ("2026-03-02T10:00:00Z", 3600.0),
        ("2026-03-02T12:00:00Z", 7200.0),
    ]


def test_moving_into_the_same_stage_is_refused(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    _refused(
        _move(people, "M1", deal, stage_id=sales.stages["New"]),
        409,
        "transition_not_allowed",
        "stage_id",
    )
    assert snapshot(engine) == before


def test_unknown_stage_is_422(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    _refused(_move(people, "M1", deal, stage_id=999999), 422, "invalid_input", "stage_id")
    _refused(_move(people, "M1", deal, stage_id="won"), 422, "invalid_input", "stage_id")
    _refused(
        _move(people, "M1", deal, stage_id=sales.stages["Won"], status="won"),
        422,
        "invalid_input",
        "status",
    )
    assert snapshot(engine) == before


def test_moving_into_an_archived_stage_is_refused(people, sales, engine):
    api = people.http("X")
    added = api.post(
        f"/api/v1/pipelines/{sales.id}/stages",
        json={"name": "Contract"},
        headers={"If-Match": sales.etag},
    )
    contract = {s["name"]: s["id"] for s in added.json()["stages"]}["Contract"]
    api.post(
        f"/api/v1/pipelines/{sales.id}/stages/{contract}/archive",
        headers={"If-Match": added.headers["etag"]},
    )
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    _refused(
        _move(people, "M1", deal, stage_id=contract), 409, "transition_not_allowed", "stage_id"
    )
    assert snapshot(engine) == before


def test_lost_needs_a_reason_and_only_lost_takes_one(people, sales, frozen, engine):
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    _refused(
        _move(people, "M1", deal, stage_id=sales.stages["Lost"]),
        422,
        "invalid_input",
        "lost_reason",
    )
    _refused(
        _move(people, "M1", deal, stage_id=sales.stages["Lost"], lost_reason=""),
        422,
        "invalid_input",
        "lost_reason",
    )
    _refused(
        _move(people, "M1", deal, stage_id=sales.stages["Won"], lost_reason="price"),
        422,
        "invalid_input",
        "lost_reason",
    )
    assert snapshot(engine) == before
    frozen.advance(minutes=5)
    lost = _move(people, "M1", deal, stage_id=sales.stages["Lost"], lost_reason="too expensive")
    assert lost.status_code == 200, lost.text
    assert (lost.json()["status"], lost.json()["lost_reason"], lost.json()["closed_at"]) == (
        "lost",
        "too expensive",
        "2026-03-02T09:05:00Z",
    )


def test_reopening_needs_the_reassign_right(people, sales, frozen, engine):
    deal = create_deal(people, "M1", "C1")
    lost = _move(people, "M1", deal, stage_id=sales.stages["Lost"], lost_reason="price")
    etag = lost.headers["etag"]
    before = snapshot(engine)
    for target in ("Qualified", "Won"):
        response = _move(people, "M1", deal, etag, stage_id=sales.stages[target])
        _refused(response, 403, "reopen_not_allowed", "stage_id")
        assert "only a head of sales or an administrator" in response.json()["error"]["message"]
    assert snapshot(engine) == before
    frozen.advance(hours=1)
    reopened = _move(people, "H", deal, etag, stage_id=sales.stages["Qualified"])
    assert reopened.status_code == 200, reopened.text
    assert (
        reopened.json()["status"],
        reopened.json()["closed_at"],
        reopened.json()["lost_reason"],
    ) == ("open", None, None)
    won = _move(people, "M1", deal, reopened.headers["etag"], stage_id=sales.stages["Won"])
    rewon = _move(
        people,
        "X",
        deal,
        won.headers["etag"],
        stage_id=sales.stages["Lost"],
        lost_reason="cancelled",
    )
    assert (rewon.json()["status"], rewon.json()["lost_reason"]) == ("lost", "cancelled")
    assert [(c[1], c[2]) for c in stage_changes(engine, deal["id"])] == [
        (sales.stages["New"], people.users["M1"]),
        (sales.stages["Lost"], people.users["M1"]),
        (sales.stages["Qualified"], people.users["H"]),
        (sales.stages["Won"], people.users["M1"]),
        (sales.stages["Lost"], people.users["X"]),
    ]


def test_strict_order_forbids_skipping_open_stages_forward(people, engine):
    strict = create_pipeline(people, "Strict", strict_order=True)
    ids = strict.stages
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    response = _move(people, "M1", deal, stage_id=ids["Proposal"])
    _refused(response, 409, "transition_not_allowed", "stage_id")
    assert response.json()["error"]["message"] == (
        "pipeline 'Strict' keeps strict order: the deal would skip 'Qualified'"
    )
    assert snapshot(engine) == before
    forward = _move(people, "M1", deal, stage_id=ids["Qualified"])
    assert forward.status_code == 200
    back = _move(people, "M1", deal, forward.headers["etag"], stage_id=ids["New"])
    assert back.status_code == 200
    closed = _move(people, "M1", deal, back.headers["etag"], stage_id=ids["Won"])
    assert closed.status_code == 200
    lost_early = create_deal(people, "M1", "C1")
    assert (
        _move(people, "M1", lost_early, stage_id=ids["Lost"], lost_reason="spam").status_code == 200
    )


def test_free_order_allows_skipping(people, sales):
    deal = create_deal(people, "M1", "C1")
    assert _move(people, "M1", deal, stage_id=sales.stages["Proposal"]).status_code == 200


def test_another_pipeline_only_when_named(people, sales, engine):
    partners = create_pipeline(people, "Partners", is_default=False)
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    unnamed = _move(people, "M1", deal, stage_id=partners.stages["Qualified"])
    _refused(unnamed, 409, "transition_not_allowed", "pipeline_id")
    assert unnamed.json()["error"]["message"] == (
        f"stage {partners.stages['Qualified']} belongs to another pipeline; to move the deal "
        f"into it, send pipeline_id={partners.id} as well"
    )
    mismatch = _move(
        people, "M1", deal, stage_id=partners.stages["Qualified"], pipeline_id=sales.id
    )
    _refused(mismatch, 422, "invalid_input", "pipeline_id")
    assert snapshot(engine) == before
    moved = _move(
        people, "M1", deal, stage_id=partners.stages["Qualified"], pipeline_id=partners.id
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["pipeline_id"], moved.json()["stage_id"]) == (
        partners.id,
        partners.stages["Qualified"],
    )
    assert stage_changes(engine, deal["id"])[-1] == (
        sales.stages["New"],
        partners.stages["Qualified"],
        people.users["M1"],
    )
    same_pipeline_named = _move(
        people,
        "M1",
        deal,
        moved.headers["etag"],
        stage_id=partners.stages["New"],
        pipeline_id=partners.id,
    )
    assert same_pipeline_named.status_code == 200


def test_move_needs_the_current_etag(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    url = f"/api/v1/deals/{deal['id']}/move"
    before = snapshot(engine)
    missing = people.http("M1").post(url, json={"stage_id": sales.stages["Won"]})
    assert missing.status_code == 428
    stale = _move(people, "M1", deal, f'"{deal["id"]}-0"', stage_id=sales.stages["Won"])
    assert stale.status_code == 412
    assert snapshot(engine) == before


def test_moves_are_audited(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    _move(people, "M1", deal, stage_id=sales.stages["Won"])
    with unit_of_work(engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "move")).one()
    assert (event.entity, event.entity_id, event.actor_id) == (
        "deal",
        deal["id"],
        people.users["M1"],
    )
    assert event.changes == {
        "stage_id": [sales.stages["New"], sales.stages["Won"]],
        "pipeline_id": [sales.id, sales.id],
    }


def test_moving_into_an_archived_pipeline_is_refused(people, sales, engine):
    partners = create_pipeline(people, "Partners", is_default=False)
    archived = people.http("X").patch(
        f"/api/v1/pipelines/{partners.id}",
        json={"is_archived": True},
        headers={"If-Match": partners.etag},
    )
    assert archived.status_code == 200
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    response = _move(people, "M1", deal, stage_id=partners.stages["New"], pipeline_id=partners.id)
    _refused(response, 409, "transition_not_allowed", "pipeline_id")
    assert response.json()["error"]["message"] == "pipeline 'Partners' is archived"
    assert snapshot(engine) == before
