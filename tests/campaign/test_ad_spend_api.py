"""Ad spend over HTTP: idempotent upsert by (campaign, day), atomic batches, exact totals."""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import select, text

from tests.order.support import fields_of, snapshot
from voronka.audit.models import AuditEvent
from voronka.campaign.models import AdSpend
from voronka.db.session import unit_of_work


def _rows(setup):
    brand, stories = setup.campaigns["brand"], setup.campaigns["stories"]
    return [
        {
            "campaign_id": brand,
            "day": "2026-03-01",
            "cost": "0.10",
            "impressions": 100,
            "clicks": 3,
        },
        {"campaign_id": brand, "day": "2026-03-02", "cost": "0.20", "impressions": 50, "clicks": 1},
        {"campaign_id": stories, "day": "2026-03-01", "cost": "100.00", "clicks": 7},
        {
            "campaign_id": stories,
            "day": "2026-03-02",
            "cost": "5.55",
            "currency": "USD",
            "impressions": 10,
            "source": "vk-export",
        },
    ]


def _stored(engine):
    with unit_of_work(engine) as session:
        rows = session.scalars(select(AdSpend).order_by(AdSpend.id)).all()
        return [
            (
                r.id,
                r.campaign_id,
                r.day.isoformat(),
                r.cost,
                r.currency,
                r.impressions,
                r.clicks,
                r.source,
            )
            for r in rows
        ]


def test_sending_the_same_rows_twice_creates_no_duplicates(people, setup, engine):
    api = people.http("K")
    first = api.put("/api/v1/ad-spend", json={"rows": _rows(setup)})
    assert first.status_code == 200, first.text
    assert {k: first.json()[k] for k in ("created", "updated", "unchanged")} == {
        "created": 4,
        "updated": 0,
        "unchanged": 0,
    }
    stored = _stored(engine)
    again = api.put("/api/v1/ad-spend", json={"rows": _rows(setup)})
    assert {k: again.json()[k] for k in ("created", "updated", "unchanged")} == {
        "created": 0,
        "updated": 0,
        "unchanged": 4,
    }
    assert again.json()["items"] == first.json()["items"]
    assert _stored(engine) == stored
    corrected = _rows(setup)
    corrected[1] = {**corrected[1], "cost": "0.25", "clicks": 2}
    third = api.put("/api/v1/ad-spend", json={"rows": corrected[1:2]})
    assert {k: third.json()[k] for k in ("created", "updated", "unchanged")} == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
    }
    assert third.json()["items"][0]["id"] == stored[1][0]
    assert _stored(engine) == [
        stored[0],
        (*stored[1][:3], Decimal("0.25"), "RUB", 50, 2, None),
        *stored[2:],
    ]
    assert [r[3] for r in _stored(engine)] == [
        Decimal("0.10"),
        Decimal("0.25"),
        Decimal("100.00"),
        Decimal("5.55"),
    ]


def test_a_bad_row_in_the_middle_writes_nothing(people, setup, engine):
    api = people.http("K")
    api.put("/api/v1/ad-spend", json={"rows": _rows(setup)[:1]})
    before = snapshot(engine, AdSpend, AuditEvent)
    good = _rows(setup)
    overwrite_first = {**good[0], "cost": "9.99"}
    cases = [
        ({**good[1], "cost": "1.001"}, "rows.1.cost", None),
        ({**good[1], "cost": "-1"}, "rows.1.cost", None),
        ({**good[1], "cost": "Infinity"}, "rows.1.cost", None),
        ({**good[1], "clicks": "many"}, "rows.1.clicks", None),
        ({**good[1], "day": "2026-02-30"}, "rows.1.day", None),
        ({**good[1], "currency": "usd"}, "rows.1.currency", None),
        ({**good[1], "workspace_id": 2}, "rows.1.workspace_id", None),
        ({**good[1], "campaign_id": 999999}, "rows.1.campaign_id", 1),
        (
            {**good[1], "campaign_id": good[0]["campaign_id"], "day": good[0]["day"]},
            "rows.1.day",
            1,
        ),
    ]
    for bad, field, row in cases:
        response = api.put("/api/v1/ad-spend", json={"rows": [overwrite_first, bad, good[2]]})
        assert response.status_code == 422, (bad, response.text)
        details = response.json()["error"]["details"]
        assert [d["field"] for d in details] == [field], (bad, details)
        assert details[0].get("row") == row
    assert snapshot(engine, AdSpend, AuditEvent) == before


def test_batch_shape_is_checked(people, setup, engine):
    api = people.http("K")
    before = snapshot(engine, AdSpend)
    for body, field in (
        ({"rows": []}, "rows"),
        ({}, "rows"),
        ({"rows": {"a": 1}}, "rows"),
        ({"rows": _rows(setup), "dry_run": True}, "dry_run"),
    ):
        response = api.put("/api/v1/ad-spend", json=body)
        assert response.status_code == 422
        assert field in fields_of(response)
    assert snapshot(engine, AdSpend) == before


def test_list_has_exact_totals_per_currency_over_all_pages(people, setup):
    people.http("K").put("/api/v1/ad-spend", json={"rows": _rows(setup)})
    api = people.http("A")
    page = api.get("/api/v1/ad-spend", params={"page_size": 1, "sort": "cost"}).json()
    assert [r["cost"] for r in page["items"]] == ["0.10"]
    assert page["total"] == 4
    assert page["totals"] == [
        {"currency": "RUB", "cost": "100.30", "impressions": 150, "clicks": 11, "rows": 3},
        {"currency": "USD", "cost": "5.55", "impressions": 10, "clicks": 0, "rows": 1},
    ]

    def totals(**params):
        return [
            (t["currency"], t["cost"], t["rows"])
            for t in api.get("/api/v1/ad-spend", params=params).json()["totals"]
        ]

    assert totals(campaign_id=setup.campaigns["brand"]) == [("RUB", "0.30", 2)]
    assert totals(channel_id=setup.channels["vk"]) == [("RUB", "100.00", 1), ("USD", "5.55", 1)]
    assert totals(day_from="2026-03-02", day_to="2026-03-02") == [
        ("RUB", "0.20", 1),
        ("USD", "5.55", 1),
    ]
    assert totals(currency="USD") == [("USD", "5.55", 1)]
    assert totals(day_from="2027-01-01") == []
    assert api.get("/api/v1/ad-spend", params={"sort": "cost_minor"}).status_code == 400


def test_who_reads_and_writes_spend(people, setup, engine):
    row = _rows(setup)[:1]
    before = snapshot(engine, AdSpend, AuditEvent)
    for who in ("H", "M1", "A"):
        response = people.http(who).put("/api/v1/ad-spend", json={"rows": row})
        assert response.status_code == 403, who
    assert people.http("M1").get("/api/v1/ad-spend").status_code == 403
    assert snapshot(engine, AdSpend, AuditEvent) == before
    for who in ("X", "H", "K", "A"):
        assert people.http(who).get("/api/v1/ad-spend").status_code == 200, who
    assert people.http("X").put("/api/v1/ad-spend", json={"rows": row}).status_code == 200
    spend_id = people.http("K").get("/api/v1/ad-spend").json()["items"][0]["id"]
    assert people.http("A").delete(f"/api/v1/ad-spend/{spend_id}").status_code == 403
    assert people.http("K").delete(f"/api/v1/ad-spend/{spend_id}").status_code == 204
    assert people.http("K").delete(f"/api/v1/ad-spend/{spend_id}").status_code == 404


def test_concurrent_identical_batches_store_each_row_once(people, setup, engine):
    clients = [people.http("K"), people.http("X")]
    barrier, statuses = threading.Barrier(2), []

    def send(api):
        barrier.wait()
        statuses.append(api.put("/api/v1/ad-spend", json={"rows": _rows(setup)}).status_code)

    threads = [threading.Thread(target=send, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ad_spend")).scalar_one() == 4
