"""Stage structure over HTTP: add, update, reorder, archive; each guarded by the pipeline ETag."""

from __future__ import annotations

from tests.pipeline.sample import create_deal, snapshot


def _names(body):
    return [s["name"] for s in body["stages"] if not s["is_archived"]]


def _stages_url(sales, *rest):
    return "/".join([f"/api/v1/pipelines/{sales.id}/stages", *map(str, rest)])


def test_new_open_stage_goes_after_the_last_open_stage(people, sales):
    api = people.http("X")
    added = api.post(
        _stages_url(sales),
        json={"name": "Contract", "probability": 80},
        headers={"If-Match": sales.etag},
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert _names(body) == ["New", "Qualified", "Proposal", "Contract", "Won", "Lost"]
    assert [s["position"] for s in body["stages"]] == [0, 1, 2, 3, 4, 5]
    assert added.headers["etag"] == f'"{sales.id}-2"'
    closed = api.post(
        _stages_url(sales),
        json={"name": "Refused", "kind": "lost"},
        headers={"If-Match": added.headers["etag"]},
    )
    assert _names(closed.json())[-1] == "Refused"
    first = api.post(
        _stages_url(sales),
        json={"name": "Inbox", "position": 0},
        headers={"If-Match": closed.headers["etag"]},
    )
    assert _names(first.json()) == [
        "Inbox",
        "New",
        "Qualified",
        "Proposal",
        "Contract",
        "Won",
        "Lost",
        "Refused",
    ]


def test_stage_changes_need_the_current_pipeline_etag(people, sales, engine):
    api = people.http("X")
    before = snapshot(engine)
    assert api.post(_stages_url(sales), json={"name": "x"}).status_code == 428
    stale = api.post(_stages_url(sales), json={"name": "x"}, headers={"If-Match": '"1-99"'})
    assert stale.status_code == 412
    renamed = api.patch(_stages_url(sales, sales.stages["New"]), json={"name": "Lead"})
    assert renamed.status_code == 428
    assert snapshot(engine) == before


def test_update_stage_name_and_probability(people, sales):
    api = people.http("X")
    response = api.patch(
        _stages_url(sales, sales.stages["New"]),
        json={"name": "Lead", "probability": 5},
        headers={"If-Match": sales.etag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["stages"][0] | {"id": 0} == {
        "id": 0,
        "name": "Lead",
        "position": 0,
        "kind": "open",
        "probability": 5,
        "is_archived": False,
    }
    assert response.headers["etag"] == f'"{sales.id}-2"'


def test_kind_of_a_used_stage_cannot_change(people, sales, engine):
    api = people.http("X")
    create_deal(people, "M1", "C1")
    before = snapshot(engine)
    response = api.patch(
        _stages_url(sales, sales.stages["New"]),
        json={"kind": "won"},
        headers={"If-Match": sales.etag},
    )
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "kind"
    assert snapshot(engine) == before
    unused = api.patch(
        _stages_url(sales, sales.stages["Proposal"]),
        json={"kind": "won"},
        headers={"If-Match": sales.etag},
    )
    assert unused.status_code == 200
    assert [s["kind"] for s in unused.json()["stages"]] == ["open", "open", "won", "won", "lost"]


def test_kind_change_may_not_leave_the_pipeline_incomplete(people, sales, engine):
    before = snapshot(engine)
    response = people.http("X").patch(
        _stages_url(sales, sales.stages["Lost"]),
        json={"kind": "open"},
        headers={"If-Match": sales.etag},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pipeline_incomplete"
    assert snapshot(engine) == before


def test_reorder_needs_every_active_stage_once(people, sales, engine):
    api = people.http("X")
    ids = sales.stages
    before = snapshot(engine)
    for wrong in ([ids["New"], ids["Won"]], [*ids.values(), ids["New"]], [*ids.values(), 999]):
        response = api.post(
            _stages_url(sales, "reorder"),
            json={"stage_ids": wrong},
            headers={"If-Match": sales.etag},
        )
        assert response.status_code == 422, wrong
        assert response.json()["error"]["details"][0]["field"] == "stage_ids"
    assert snapshot(engine) == before
    order = [ids["Qualified"], ids["New"], ids["Proposal"], ids["Lost"], ids["Won"]]
    response = api.post(
        _stages_url(sales, "reorder"), json={"stage_ids": order}, headers={"If-Match": sales.etag}
    )
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()["stages"]] == order
    assert [s["position"] for s in response.json()["stages"]] == [0, 1, 2, 3, 4]


def test_archive_is_refused_while_the_stage_has_open_deals(people, sales, engine):
    api = people.http("X")
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    response = api.post(
        _stages_url(sales, sales.stages["New"], "archive"), headers={"If-Match": sales.etag}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "has_open_deals"
    assert error["message"] == "stage 'New' still has 1 open deal(s); move them first"
    assert snapshot(engine) == before
    moved = people.http("M1").post(
        f"/api/v1/deals/{deal['id']}/move",
        json={"stage_id": sales.stages["Qualified"]},
        headers={"If-Match": deal["etag"]},
    )
    assert moved.status_code == 200
    archived = api.post(
        _stages_url(sales, sales.stages["New"], "archive"), headers={"If-Match": sales.etag}
    )
    assert archived.status_code == 200, archived.text
    view = [(s["name"], s["position"], s["is_archived"]) for s in archived.json()["stages"]]
    assert view == [
        ("Qualified", 0, False),
        ("Proposal", 1, False),
        ("Won", 2, False),
        ("Lost", 3, False),
        ("New", 4, True),
    ]


def test_archive_may_not_remove_the_last_lost_stage(people, sales, engine):
    before = snapshot(engine)
    response = people.http("X").post(
        _stages_url(sales, sales.stages["Lost"], "archive"), headers={"If-Match": sales.etag}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pipeline_incomplete"
    assert response.json()["error"]["details"] == [
        {"field": "stage_id", "message": "no lost stage would remain"}
    ]
    assert snapshot(engine) == before


def test_closed_deals_do_not_block_archiving_a_closed_stage(people, sales):
    api = people.http("X")
    with_refused = api.post(
        _stages_url(sales),
        json={"name": "Refused", "kind": "lost"},
        headers={"If-Match": sales.etag},
    )
    deal = create_deal(people, "M1", "C1")
    lost = people.http("M1").post(
        f"/api/v1/deals/{deal['id']}/move",
        json={"stage_id": sales.stages["Lost"], "lost_reason": "price"},
        headers={"If-Match": deal["etag"]},
    )
    assert lost.status_code == 200
    archived = api.post(
        _stages_url(sales, sales.stages["Lost"], "archive"),
        headers={"If-Match": with_refused.headers["etag"]},
    )
    assert archived.status_code == 200, archived.text
    assert (
        people.http("M1").get(f"/api/v1/deals/{deal['id']}").json()["stage_id"]
        == (sales.stages["Lost"])
    )


def test_archived_pipeline_refuses_open_deals_then_new_deals(people, sales, engine):
    api = people.http("X")
    deal = create_deal(people, "M1", "C1")
    before = snapshot(engine)
    refused = api.patch(
        f"/api/v1/pipelines/{sales.id}",
        json={"is_archived": True},
        headers={"If-Match": sales.etag},
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "has_open_deals"
    assert snapshot(engine) == before
    people.http("M1").post(
        f"/api/v1/deals/{deal['id']}/move",
        json={"stage_id": sales.stages["Won"]},
        headers={"If-Match": deal["etag"]},
    )
    archived = api.patch(
        f"/api/v1/pipelines/{sales.id}",
        json={"is_archived": True},
        headers={"If-Match": sales.etag},
    )
    assert archived.status_code == 200
    assert (archived.json()["is_archived"], archived.json()["is_default"]) == (True, False)
    new = people.http("M1").post(
        "/api/v1/deals",
        json={"title": "Late", "client_id": people.clients["C1"], "pipeline_id": sales.id},
    )
    assert new.status_code == 409
    assert new.json()["error"]["details"][0]["field"] == "pipeline_id"
