"""Deal API over HTTP: create, read, update with If-Match, delete, bad input."""

from __future__ import annotations

from sqlalchemy import select

from tests.pipeline.sample import create_deal, create_pipeline, snapshot, stage_changes
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work


def test_create_starts_in_the_first_open_stage_and_records_it(people, sales, frozen, engine):
    response = people.http("M1").post(
        "/api/v1/deals",
        json={"title": "Kitchen set", "client_id": people.clients["C1"], "amount": "1500.5"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "title": "Kitchen set",
        "client_id": people.clients["C1"],
        "pipeline_id": sales.id,
        "stage_id": sales.stages["New"],
        "status": "open",
        "owner_id": people.users["M1"],
        "amount": "1500.50",
        "currency": "RUB",
        "channel_id": None,
        "campaign_id": None,
        "external_id": None,
        "stage_entered_at": "2026-03-02T09:00:00Z",
        "closed_at": None,
        "expected_close_on": None,
        "lost_reason": None,
        "custom_fields": {},
        "created_by_id": people.users["M1"],
        "created_at": "",
        "updated_at": "",
        "version": 1,
    }
    assert body["created_at"] == "2026-03-02T09:00:00Z"
    assert response.headers["etag"] == f'"{body["id"]}-1"'
    assert stage_changes(engine, body["id"]) == [(None, sales.stages["New"], people.users["M1"])]
    read = people.http("M1").get(f"/api/v1/deals/{body['id']}")
    assert read.json() == body
    assert read.headers["etag"] == response.headers["etag"]
    with unit_of_work(engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "deal")).one()
    assert (event.action, event.entity_id, event.actor_id) == (
        "create",
        body["id"],
        people.users["M1"],
    )


def test_create_in_a_chosen_stage_or_pipeline(people, sales):
    partners = create_pipeline(people, "Partners", is_default=False)
    in_stage = create_deal(people, "M1", "C1", stage_id=sales.stages["Proposal"])
    assert (in_stage["pipeline_id"], in_stage["stage_id"]) == (sales.id, sales.stages["Proposal"])
    in_pipeline = create_deal(people, "M1", "C1", pipeline_id=partners.id)
    assert (in_pipeline["pipeline_id"], in_pipeline["stage_id"]) == (
        partners.id,
        partners.stages["New"],
    )
    won = create_deal(people, "H", "C1", stage_id=sales.stages["Won"], owner_id=people.users["M1"])
    assert (won["status"], won["closed_at"] is not None, won["owner_id"]) == (
        "won",
        True,
        people.users["M1"],
    )
    lost = create_deal(people, "M1", "C1", stage_id=sales.stages["Lost"], lost_reason="price")
    assert (lost["status"], lost["lost_reason"]) == ("lost", "price")


def test_bad_input_names_the_field_and_stores_nothing(people, sales, engine):
    api = people.http("M1")
    partners = create_pipeline(people, "Partners", is_default=False)
    before = snapshot(engine)
    c1 = people.clients["C1"]
    cases = [
        ({"title": "x", "client_id": c1, "amount": "10.005"}, 422, "amount"),
        ({"title": "x", "client_id": c1, "amount": "-1.00"}, 422, "amount"),
        ({"title": "x", "client_id": c1, "amount": "ten"}, 422, "amount"),
        ({"title": "x", "client_id": c1, "amount": "NaN"}, 422, "amount"),
        ({"title": "x", "client_id": c1, "amount": "1e20"}, 422, "amount"),
        ({"title": "x", "client_id": c1, "currency": "rub"}, 422, "currency"),
        ({"title": "x", "client_id": c1, "currency": "RUBL"}, 422, "currency"),
        ({"title": "x", "client_id": "one"}, 422, "client_id"),
        ({"title": "", "client_id": c1}, 422, "title"),
        ({"title": "x", "client_id": c1, "status": "won"}, 422, "status"),
        ({"title": "x", "client_id": c1, "version": 7}, 422, "version"),
        ({"title": "x", "client_id": c1, "stage_id": 999999}, 422, "stage_id"),
        ({"title": "x", "client_id": c1, "pipeline_id": 999999}, 422, "pipeline_id"),
        (
            {
                "title": "x",
                "client_id": c1,
                "pipeline_id": partners.id,
                "stage_id": sales.stages["New"],
            },
            422,
            "stage_id",
        ),
        ({"title": "x", "client_id": c1, "stage_id": sales.stages["Lost"]}, 422, "lost_reason"),
        ({"title": "x", "client_id": c1, "lost_reason": "why"}, 422, "lost_reason"),
        ({"title": "x", "client_id": c1, "channel_id": 999999}, 422, "channel_id"),
        ({"title": "x", "client_id": c1, "campaign_id": 999999}, 422, "campaign_id"),
        ({"title": "x", "client_id": 999999}, 422, "client_id"),
        ({"title": "x", "client_id": people.clients["C2"]}, 422, "client_id"),
        ({"title": "x", "client_id": c1, "owner_id": 999999}, 422, "owner_id"),
        ({"title": "x", "client_id": c1, "owner_id": people.users["M2"]}, 403, "owner_id"),
    ]
    for payload, status, field in cases:
        response = api.post("/api/v1/deals", json=payload)
        assert response.status_code == status, (payload, response.text)
        assert field in [d.get("field") for d in response.json()["error"]["details"]], payload
    assert snapshot(engine) == before


def test_someone_elses_client_looks_like_a_missing_one(people, sales):
    api = people.http("M1")
    hidden = api.post("/api/v1/deals", json={"title": "x", "client_id": people.clients["C2"]})
    missing = api.post("/api/v1/deals", json={"title": "x", "client_id": 999999})
    assert hidden.status_code == missing.status_code == 422
    assert (
        hidden.json()["error"]["details"]
        == missing.json()["error"]["details"]
        == [{"field": "client_id", "message": "no such client"}]
    )


def test_update_requires_current_etag(people, sales, engine):
    api = people.http("M1")
    deal = create_deal(people, "M1", "C1")
    url = f"/api/v1/deals/{deal['id']}"
    before = snapshot(engine)
    assert api.patch(url, json={"title": "New"}).status_code == 428
    assert snapshot(engine) == before
    first = api.patch(
        url, json={"title": "First", "amount": "99.9"}, headers={"If-Match": deal["etag"]}
    )
    assert first.status_code == 200, first.text
    assert (first.json()["title"], first.json()["amount"]) == ("First", "99.90")
    assert first.headers["etag"] == f'"{deal["id"]}-2"'
    second = api.patch(url, json={"title": "Second"}, headers={"If-Match": deal["etag"]})
    assert second.status_code == 412
    assert api.get(url).json()["title"] == "First"
    with unit_of_work(engine) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "deal", AuditEvent.action == "update")
        ).one()
    assert event.changes == {"title": ["Deal of C1", "First"], "amount": ["0.00", "99.90"]}


def test_stage_status_and_bookkeeping_fields_are_not_patchable(people, sales, engine):
    api = people.http("M1")
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    for field, value in (
        ("stage_id", sales.stages["Won"]),
        ("status", "won"),
        ("pipeline_id", sales.id),
        ("version", 9),
        ("closed_at", None),
        ("created_by_id", 1),
        ("is_deleted", True),
        ("title", None),
        ("amount", "1.234"),
        ("lost_reason", "why"),
    ):
        response = api.patch(
            f"/api/v1/deals/{deal['id']}", json={field: value}, headers={"If-Match": deal["etag"]}
        )
        assert response.status_code == 422, field
        assert response.json()["error"]["details"][0]["field"] == field
    assert snapshot(engine) == before


def test_owner_change_needs_the_reassign_right_within_scope(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    url = f"/api/v1/deals/{deal['id']}"
    people.http("H")
    before = snapshot(engine)
    by_manager = people.http("M1").patch(
        url, json={"owner_id": people.users["M2"]}, headers={"If-Match": deal["etag"]}
    )
    assert by_manager.status_code == 403
    outside_team = people.http("H").patch(
        url, json={"owner_id": people.users["M3"]}, headers={"If-Match": deal["etag"]}
    )
    assert outside_team.status_code == 403
    assert snapshot(engine) == before
    within_team = people.http("H").patch(
        url, json={"owner_id": people.users["M2"]}, headers={"If-Match": deal["etag"]}
    )
    assert within_team.status_code == 200, within_team.text
    assert within_team.json()["owner_id"] == people.users["M2"]


def test_linking_a_deal_to_someone_elses_client_is_refused(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    response = people.http("M1").patch(
        f"/api/v1/deals/{deal['id']}",
        json={"client_id": people.clients["C2"]},
        headers={"If-Match": deal["etag"]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"field": "client_id", "message": "no such client"}
    ]
    assert snapshot(engine) == before
    by_head = people.http("H").patch(
        f"/api/v1/deals/{deal['id']}",
        json={"client_id": people.clients["C2"]},
        headers={"If-Match": deal["etag"]},
    )
    assert by_head.json()["client_id"] == people.clients["C2"]


def test_lost_reason_can_be_corrected_only_on_a_lost_deal(people, sales):
    api = people.http("M1")
    deal = create_deal(people, "M1", "C1", stage_id=sales.stages["Lost"], lost_reason="pricey")
    url = f"/api/v1/deals/{deal['id']}"
    fixed = api.patch(url, json={"lost_reason": "price"}, headers={"If-Match": deal["etag"]})
    assert fixed.json()["lost_reason"] == "price"
    emptied = api.patch(
        url, json={"lost_reason": None}, headers={"If-Match": fixed.headers["etag"]}
    )
    assert emptied.status_code == 422


def test_delete_hides_the_deal_and_keeps_its_history(people, sales, engine):
    deal = create_deal(people, "M1", "C1")
    url = f"/api/v1/deals/{deal['id']}"
    people.http("H")
    before = snapshot(engine)
    assert people.http("M1").delete(url, headers={"If-Match": deal["etag"]}).status_code == 403
    assert people.http("H").delete(url).status_code == 428
    assert snapshot(engine) == before
    assert people.http("H").delete(url, headers={"If-Match": deal["etag"]}).status_code == 204
    assert people.http("H").get(url).status_code == 404
    assert people.http("H").get("/api/v1/deals").json()["total"] == 0
    assert stage_changes(engine, deal["id"]) == [(None, sales.stages["New"], people.users["M1"])]


def test_external_id_is_unique_in_the_workspace_and_named_on_conflict(people, sales, engine):
    api = people.http("M1")
    first = create_deal(people, "M1", "C1", external_id="1C-00042")
    assert first["external_id"] == "1C-00042"
    before = snapshot(engine)
    taken = api.post("/api/v1/deals", json={"title": "Twin", "client_id": people.clients["C1"],
                                           "external_id": "1C-00042"})
    assert taken.status_code == 409
    assert taken.json()["error"]["details"][0]["field"] == "external_id"
    too_long = api.post("/api/v1/deals", json={"title": "Long", "client_id": people.clients["C1"],
                                              "external_id": "x" * 129})
    assert too_long.status_code == 422 and "external_id" in too_long.text
    assert snapshot(engine) == before
    second = create_deal(people, "M1", "C1", external_id="1C-00043")
    url = f"/api/v1/deals/{second['id']}"
    clash = api.patch(url, json={"external_id": "1C-00042"}, headers={"If-Match": second["etag"]})
    assert clash.status_code == 409
    kept = api.patch(url, json={"external_id": "1C-00043", "title": "Same id"},
                     headers={"If-Match": second["etag"]})
    assert kept.status_code == 200 and kept.json()["external_id"] == "1C-00043"
    cleared = api.patch(url, json={"external_id": None}, headers={"If-Match": kept.headers["etag"]})
    assert cleared.status_code == 200 and cleared.json()["external_id"] is None
