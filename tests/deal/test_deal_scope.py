"""Record scope over HTTP: a deal is visible exactly when its client is.

M1 sees C1's deals only; H sees team T1's (C1, C2); H2 sees T2's (C3); X sees all; the
marketer K and the analyst A have no access to deals at all. Out-of-scope deals answer
exactly like missing ids, and nothing is changed.
"""

from __future__ import annotations

import pytest

from tests.pipeline.sample import create_deal, snapshot

VISIBLE = {
    "M1": {"C1"},
    "M2": {"C2"},
    "M3": {"C3"},
    "H": {"C1", "C2"},
    "H2": {"C3"},
    "X": {"C1", "C2", "C3"},
}


@pytest.fixture
def deals(people, sales):
    """One deal per client, created by the client's owner: {"C1": deal, ...}."""
    return {
        client: create_deal(people, owner, client)
        for client, owner in (("C1", "M1"), ("C2", "M2"), ("C3", "M3"))
    }


def test_lists_and_counts_show_only_visible_deals(people, deals):
    for who, clients in VISIBLE.items():
        listed = people.http(who).get("/api/v1/deals", params={"page_size": 1})
        assert listed.status_code == 200, who
        assert listed.json()["total"] == len(clients), who
        everything = people.http(who).get("/api/v1/deals").json()["items"]
        assert {d["id"] for d in everything} == {deals[c]["id"] for c in clients}, who
        for client in {"C1", "C2", "C3"} - clients:
            filtered = people.http(who).get(
                "/api/v1/deals", params={"client_id": people.clients[client]}
            )
            assert filtered.json()["total"] == 0, (who, client)


def test_out_of_scope_deals_look_missing_and_stay_unchanged(people, sales, deals, engine):
    m1 = people.http("M1")
    before = snapshot(engine)
    for client in ("C2", "C3"):
        deal = deals[client]
        url = f"/api/v1/deals/{deal['id']}"
        headers = {"If-Match": deal["etag"]}
        answers = [
            m1.get(url),
            m1.get(f"{url}/history"),
            m1.patch(url, json={"title": "mine"}, headers=headers),
            m1.post(f"{url}/move", json={"stage_id": sales.stages["Won"]}, headers=headers),
        ]
        missing = m1.get("/api/v1/deals/999999")
        for answer in answers:
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == missing.json()["error"]["code"]
            assert answer.json()["error"]["message"] == missing.json()["error"]["message"]
            assert "etag" not in answer.headers
            assert deal["title"] not in answer.text
    assert snapshot(engine) == before


def test_heads_see_their_own_team_only(people, sales, deals, engine):
    people.http("H2")
    before = snapshot(engine)
    for who, hidden in (("H", "C3"), ("H2", "C1"), ("H2", "C2")):
        deal = deals[hidden]
        api = people.http(who)
        assert api.get(f"/api/v1/deals/{deal['id']}").status_code == 404, (who, hidden)
        moved = api.post(
            f"/api/v1/deals/{deal['id']}/move",
            json={"stage_id": sales.stages["Qualified"]},
            headers={"If-Match": deal["etag"]},
        )
        assert moved.status_code == 404, (who, hidden)
    assert snapshot(engine) == before
    for who, seen in (("H", "C2"), ("H2", "C3")):
        deal = deals[seen]
        read = people.http(who).get(f"/api/v1/deals/{deal['id']}")
        assert read.status_code == 200, (who, seen)


def test_marketer_and_analyst_have_no_deal_access(people, sales, deals, engine):
    deal = deals["C1"]
    for who in ("K", "A"):
        people.http(who)
    before = snapshot(engine)
    for who in ("K", "A"):
        api = people.http(who)
        url = f"/api/v1/deals/{deal['id']}"
        answers = [
            api.get("/api/v1/deals"),
            api.get(url),
            api.get(f"{url}/history"),
            api.post("/api/v1/deals", json={"title": "x", "client_id": people.clients["C1"]}),
            api.patch(url, json={"title": "x"}, headers={"If-Match": deal["etag"]}),
            api.post(
                f"{url}/move",
                json={"stage_id": sales.stages["Won"]},
                headers={"If-Match": deal["etag"]},
            ),
            api.delete(url, headers={"If-Match": deal["etag"]}),
        ]
        assert [a.status_code for a in answers] == [403] * len(answers), who
        assert all(deal["title"] not in a.text for a in answers)
    assert snapshot(engine) == before


def test_filtering_by_an_owner_outside_the_scope_is_refused(people, deals):
    for who, owner in (("M1", "M2"), ("H", "M3"), ("H2", "M1")):
        response = people.http(who).get("/api/v1/deals", params={"owner_id": people.users[owner]})
        assert response.status_code == 403, (who, owner)
        assert response.json()["error"]["details"][0]["field"] == "owner_id"
    within = people.http("H").get("/api/v1/deals", params={"owner_id": people.users["M2"]})
    assert [d["id"] for d in within.json()["items"]] == [deals["C2"]["id"]]


def test_unauthenticated_requests_are_401(anonymous):
    for method, url in (
        ("GET", "/api/v1/deals"),
        ("POST", "/api/v1/deals/1/move"),
        ("GET", "/api/v1/pipelines"),
        ("GET", "/api/v1/pipelines/1/board"),
    ):
        assert anonymous.request(method, url).status_code == 401, url
