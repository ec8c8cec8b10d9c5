"""Satisfaction feedback over HTTP: score ranges, links, scope, and the exact CSAT/NPS summary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.conftest import rows_of
from voronka import clock
from voronka.support.models import Feedback

# [09:00, 12:00) UTC on 2026-12-01, the start given in Moscow time.
WINDOW = {"from": "2026-12-01T12:00:00+03:00", "to": "2026-12-01T12:00:00Z"}


def answer(api, client_id, kind, score, **fields):
    response = api.post(
        "/api/v1/feedback", json={"client_id": client_id, "kind": kind, "score": score, **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_answers_are_stored_and_listed(people, frozen_now, make_order):
    api = people.http("M1")
    order = make_order(people.clients["C1"])
    ticket = api.post(
        "/api/v1/tickets", json={"client_id": people.clients["C1"], "subject": "Help"}
    ).json()
    csat = answer(
        api, people.clients["C1"], "csat", 5, ticket_id=ticket["id"], comment="<b>Спасибо!</b>"
    )
    nps = answer(api, people.clients["C1"], "nps", 0, order_id=order)
    assert csat == {
        "id": csat["id"],
        "client_id": people.clients["C1"],
        "kind": "csat",
        "score": 5,
        "comment": "<b>Спасибо!</b>",
        "order_id": None,
        "ticket_id": ticket["id"],
        "created_at": "2026-12-01T09:00:00Z",
    }
    listed = api.get("/api/v1/feedback", params={"sort": "id"}).json()
    assert listed["items"] == [csat, nps] and listed["total"] == 2
    only_nps = api.get("/api/v1/feedback", params={"kind": "nps"}).json()
    assert [f["id"] for f in only_nps["items"]] == [nps["id"]]


def test_scores_outside_the_kind_range_are_422_before_the_database(people, engine):
    api = people.http("M1")
    cases = [
        ("csat", 0),
        ("csat", 6),
        ("nps", 11),
        ("nps", -1),
        ("csat", "five"),
        ("csat", 2.5),
        ("nps", 10**12),
    ]
    for kind, score in cases:
        response = api.post(
            "/api/v1/feedback",
            json={"client_id": people.clients["C1"], "kind": kind, "score": score},
        )
        assert response.status_code == 422, (kind, score, response.text)
        assert [d["field"] for d in response.json()["error"]["details"]] == ["score"]
    assert rows_of(engine, Feedback) == []
    assert answer(api, people.clients["C1"], "csat", 1)["score"] == 1
    assert answer(api, people.clients["C1"], "nps", 10)["score"] == 10


def test_order_and_ticket_must_belong_to_the_same_client(people, engine, make_order):
    api = people.http("H")
    foreign_order = make_order(people.clients["C2"])
    foreign_ticket = api.post(
        "/api/v1/tickets", json={"client_id": people.clients["C2"], "subject": "Help"}
    ).json()["id"]
    for link, field in (
        ({"order_id": foreign_order}, "order_id"),
        ({"ticket_id": foreign_ticket}, "ticket_id"),
        ({"ticket_id": 999999}, "ticket_id"),
    ):
        response = api.post(
            "/api/v1/feedback",
            json={"client_id": people.clients["C1"], "kind": "csat", "score": 4, **link},
        )
        assert response.status_code == 422
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert rows_of(engine, Feedback) == []


def seed_answers(people) -> None:
    """The hand-checked set, all answered 2026-12-01 09:00 UTC, plus two just outside the window.

    C1 (M1, team T1): CSAT 5, 4; NPS 10, 9, 7, 6
    C2 (M2, team T1): CSAT 2;    NPS 0, 8
    C3 (M3, team T2): CSAT 3, 5; NPS 10
    Outside [09:00, 12:00): C1 CSAT 1 at 08:59:59, C1 NPS 0 at 12:00:00.
    """
    x = people.http("X")
    for label, kind, scores in (
        ("C1", "csat", [5, 4]),
        ("C1", "nps", [10, 9, 7, 6]),
        ("C2", "csat", [2]),
        ("C2", "nps", [0, 8]),
        ("C3", "csat", [3, 5]),
        ("C3", "nps", [10]),
    ):
        for score in scores:
            answer(x, people.clients[label], kind, score)
    clock.freeze(datetime(2026, 12, 1, 8, 59, 59, tzinfo=UTC))
    answer(x, people.clients["C1"], "csat", 1)
    clock.freeze(datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC))
    answer(x, people.clients["C1"], "nps", 0)


# Expected figures, worked by hand from the set above (NPS: promoters 9–10, detractors 0–6):
#   X  (all):  CSAT 5+4+2+3+5 = 19 over 5 → 3.80;
#              NPS 10,9,7,6,0,8,10: 3 promoters, 2 passives, 2 detractors of 7
#              → 100 × (3 − 2) / 7 = 14.2857… → 14.29
#   H  (T1):   CSAT 5+4+2 = 11 over 3 → 3.666… → 3.67;
#              NPS 10,9,7,6,0,8: 2 promoters, 2 passives, 2 detractors of 6 → 0.00
#   M1 (C1):   CSAT 5+4 = 9 over 2 → 4.50; NPS 10,9,7,6: 2 − 1 of 4 → 25.00
#   H2 (C3):   CSAT 3+5 = 8 over 2 → 4.00; NPS 10: 1 − 0 of 1 → 100.00
EXPECTED = {
    "X": (
        {"count": 5, "total": 19, "mean": "3.80"},
        {"count": 7, "promoters": 3, "passives": 2, "detractors": 2, "score": "14.29"},
    ),
    "H": (
        {"count": 3, "total": 11, "mean": "3.67"},
        {"count": 6, "promoters": 2, "passives": 2, "detractors": 2, "score": "0.00"},
    ),
    "M1": (
        {"count": 2, "total": 9, "mean": "4.50"},
        {"count": 4, "promoters": 2, "passives": 1, "detractors": 1, "score": "25.00"},
    ),
    "H2": (
        {"count": 2, "total": 8, "mean": "4.00"},
        {"count": 1, "promoters": 1, "passives": 0, "detractors": 0, "score": "100.00"},
    ),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_summary_is_exact_for_each_scope(people, frozen_now, who):
    seed_answers(people)
    response = people.http(who).get("/api/v1/feedback/summary", params=WINDOW)
    assert response.status_code == 200, response.text
    csat, nps = EXPECTED[who]
    assert response.json() == {
        "from": "2026-12-01T09:00:00Z",
        "to": "2026-12-01T12:00:00Z",
        "csat": csat,
        "nps": nps,
    }


def test_summary_without_a_period_counts_everything(people, frozen_now):
    seed_answers(people)
    # All of X's set plus the two outside the window: CSAT 19 + 1 = 20 over 6 → 3.333… → 3.33;
    # NPS gains a detractor: 3 promoters − 3 detractors of 8 → 0.00.
    body = people.http("X").get("/api/v1/feedback/summary").json()
    assert body == {
        "from": None,
        "to": None,
        "csat": {"count": 6, "total": 20, "mean": "3.33"},
        "nps": {"count": 8, "promoters": 3, "passives": 2, "detractors": 3, "score": "0.00"},
    }


def test_summary_of_nothing_has_no_mean_and_no_score(people):
    body = people.http("M1").get("/api/v1/feedback/summary").json()
    assert body["csat"] == {"count": 0, "total": 0, "mean": None}
    assert body["nps"] == {
        "count": 0,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "score": None,
    }
    naive = people.http("M1").get("/api/v1/feedback/summary", params={"from": "2026-12-01"})
    assert naive.status_code == 422
    assert naive.json()["error"]["details"][0]["field"] == "from"


def test_m1_cannot_answer_for_or_list_other_clients(people, engine, frozen_now):
    seed_answers(people)
    api = people.http("M1")
    before = rows_of(engine, Feedback)
    response = api.post(
        "/api/v1/feedback", json={"client_id": people.clients["C2"], "kind": "nps", "score": 10}
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["client_id"]
    listed = api.get("/api/v1/feedback", params={"client_id": people.clients["C2"]}).json()
    assert (listed["items"], listed["total"]) == ([], 0)
    assert api.get("/api/v1/feedback").json()["total"] == 8  # C1's 6 + the 2 outside the window
    assert rows_of(engine, Feedback) == before


@pytest.mark.parametrize("who", ["K", "A"])
def test_marketer_and_analyst_get_403(people, engine, who):
    api = people.http(who)
    responses = [
        api.get("/api/v1/feedback"),
        api.get("/api/v1/feedback/summary"),
        api.post(
            "/api/v1/feedback", json={"client_id": people.clients["C1"], "kind": "csat", "score": 5}
        ),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert rows_of(engine, Feedback) == []
