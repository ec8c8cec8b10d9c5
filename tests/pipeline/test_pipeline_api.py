"""Pipeline API over HTTP: creation with stages, changes with If-Match, stage structure."""

from __future__ import annotations

from sqlalchemy import select

from tests.pipeline.sample import create_pipeline, snapshot
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work


def _stage_view(body):
    return [
        (s["name"], s["kind"], s["position"], s["probability"], s["is_archived"])
        for s in body["stages"]
    ]


def test_create_keeps_stage_order_and_defaults_probability(people):
    created = create_pipeline(people)
    assert _stage_view(created.body) == [
        ("New", "open", 0, 10, False),
        ("Qualified", "open", 1, 30, False),
        ("Proposal", "open", 2, 60, False),
        ("Won", "won", 3, 100, False),
        ("Lost", "lost", 4, 0, False),
    ]
    assert created.body["is_default"] is True
    assert created.body["strict_order"] is False
    assert created.etag == f'"{created.id}-1"'


def test_every_role_reads_pipelines(people, sales):
    for who in ("X", "H", "M1", "K", "A"):
        listed = people.http(who).get("/api/v1/pipelines")
        assert listed.status_code == 200, who
        assert listed.json()["total"] == 1
        assert [p["id"] for p in listed.json()["items"]] == [sales.id]
    read = people.http("M1").get(f"/api/v1/pipelines/{sales.id}")
    assert read.headers["etag"] == sales.etag
    assert read.json() == sales.body


def test_list_hides_archived_pipelines_unless_asked(people, sales):
    other = create_pipeline(people, "Partners", is_default=False)
    api = people.http("X")
    api.patch(
        f"/api/v1/pipelines/{other.id}",
        json={"is_archived": True},
        headers={"If-Match": other.etag},
    )
    assert [p["name"] for p in api.get("/api/v1/pipelines").json()["items"]] == ["Sales"]
    everything = api.get("/api/v1/pipelines", params={"include_archived": "true"}).json()
    assert [p["name"] for p in everything["items"]] == ["Sales", "Partners"]
    by_name = api.get("/api/v1/pipelines", params={"sort": "name", "include_archived": "1"})
    assert [p["name"] for p in by_name.json()["items"]] == ["Partners", "Sales"]


def test_sort_by_unknown_field_is_400(people, sales):
    response = people.http("X").get("/api/v1/pipelines", params={"sort": "secret"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "sort"


def test_only_administrators_shape_pipelines(people, sales, engine):
    for who in ("H", "M1", "K", "A"):
        people.http(who)
    before = snapshot(engine)
    for who in ("H", "M1", "K", "A"):
        api = people.http(who)
        created = api.post(
            "/api/v1/pipelines",
            json={
                "name": "Mine",
                "stages": [
                    {"name": "a"},
                    {"name": "b", "kind": "won"},
                    {"name": "c", "kind": "lost"},
                ],
            },
        )
        assert created.status_code == 403, who
        renamed = api.patch(
            f"/api/v1/pipelines/{sales.id}", json={"name": "Mine"}, headers={"If-Match": sales.etag}
        )
        assert renamed.status_code == 403, who
        added = api.post(
            f"/api/v1/pipelines/{sales.id}/stages",
            json={"name": "x"},
            headers={"If-Match": sales.etag},
        )
        assert added.status_code == 403, who
        archived = api.post(
            f"/api/v1/pipelines/{sales.id}/stages/{sales.stages['New']}/archive",
            headers={"If-Match": sales.etag},
        )
        assert archived.status_code == 403, who
    assert snapshot(engine) == before


def test_pipeline_needs_open_won_and_lost_stages(people, engine):
    api = people.http("X")
    before = snapshot(engine)
    response = api.post(
        "/api/v1/pipelines",
        json={"name": "Half", "stages": [{"name": "New"}, {"name": "Won", "kind": "won"}]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"field": "stages", "message": "add a lost stage"}
    ]
    assert snapshot(engine) == before


def test_bad_pipeline_input_names_the_field(people, engine):
    api = people.http("X")
    before = snapshot(engine)
    stages = [{"name": "a"}, {"name": "b", "kind": "won"}, {"name": "c", "kind": "lost"}]
    cases = [
        ({"name": "P", "stages": stages, "is_archived": True}, "is_archived"),
        (
            {"name": "P", "stages": [{**stages[0], "probability": 101}, *stages[1:]]},
            "stages.0.probability",
        ),
        ({"name": "P", "stages": [{**stages[0], "kind": "maybe"}, *stages[1:]]}, "stages.0.kind"),
        ({"name": "", "stages": stages}, "name"),
        ({"name": "P", "stages": stages, "strict_order": "often"}, "strict_order"),
        ({"name": "P", "stages": []}, "stages"),
    ]
    for payload, field in cases:
        response = api.post("/api/v1/pipelines", json=payload)
        assert response.status_code == 422, payload
        assert field in [d["field"] for d in response.json()["error"]["details"]], response.json()
    assert snapshot(engine) == before


def test_update_requires_current_etag_and_moves_the_default(people, sales, engine):
    api = people.http("X")
    other = create_pipeline(people, "Partners", is_default=False)
    before = snapshot(engine)
    missing = api.patch(f"/api/v1/pipelines/{other.id}", json={"is_default": True})
    assert missing.status_code == 428
    stale = api.patch(
        f"/api/v1/pipelines/{other.id}",
        json={"is_default": True},
        headers={"If-Match": f'"{other.id}-0"'},
    )
    assert stale.status_code == 412
    null = api.patch(
        f"/api/v1/pipelines/{other.id}", json={"name": None}, headers={"If-Match": other.etag}
    )
    assert null.status_code == 422
    assert snapshot(engine) == before
    changed = api.patch(
        f"/api/v1/pipelines/{other.id}",
        json={"is_default": True, "strict_order": True},
        headers={"If-Match": other.etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == f'"{other.id}-2"'
    assert (changed.json()["is_default"], changed.json()["strict_order"]) == (True, True)
    assert api.get(f"/api/v1/pipelines/{sales.id}").json()["is_default"] is False
    with unit_of_work(engine) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "pipeline", AuditEvent.action == "update")
        ).one()
    assert event.entity_id == other.id
    assert event.changes == {"is_default": [False, True], "strict_order": [False, True]}


def test_unknown_pipeline_and_stage_are_404(people, sales):
    api = people.http("X")
    other = create_pipeline(people, "Partners", is_default=False)
    assert api.get("/api/v1/pipelines/999999").status_code == 404
    foreign_stage = other.stages["New"]
    response = api.patch(
        f"/api/v1/pipelines/{sales.id}/stages/{foreign_stage}",
        json={"name": "x"},
        headers={"If-Match": sales.etag},
    )
    assert response.status_code == 404
    assert api.get("/api/v1/pipelines/999999/board").status_code == 404


def test_an_archived_pipeline_cannot_be_the_default(people, sales, engine):
    api = people.http("X")
    other = create_pipeline(people, "Partners", is_default=False)
    archived = api.patch(
        f"/api/v1/pipelines/{other.id}",
        json={"is_archived": True},
        headers={"If-Match": other.etag},
    )
    before = snapshot(engine)
    response = api.patch(
        f"/api/v1/pipelines/{other.id}",
        json={"is_default": True},
        headers={"If-Match": archived.headers["etag"]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [{"field": "is_default", "message": "archived"}]
    assert snapshot(engine) == before
