"""Saved segments over HTTP: who may save, read, export and delete; members follow the client
policy; exports are audited. RFM figures by hand (clients report rules, 5 bins):

Paid orders (UTC noon): C1 (M1, team T1) 100 on 1, 10 and 25 March; C2 (M2, T1) 50 on
1 February and 5 March; C3 (M3, T2) 30 on 10 January. Period January–March.
- Company-wide (3 paying clients, score = 1 + ⌊5 × rank ÷ 3⌋ = 1, 2, 4): C1 is 4-4-4
  "Loyal customers", C2 2-2-2 "Hibernating", C3 1-1-1 "Lost".
- Team T1 only (H's scope: C1, C2; score = 1 + ⌊5 × rank ÷ 2⌋ = 1, 3): C2 is 1-1-1 "Lost".
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work
from voronka.order.models import Order, OrderStatus
from voronka.segment.models import Segment, SegmentMember

PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}


@pytest.fixture
def shop(people, engine):  # type: ignore[no-untyped-def]
    orders = {"C1": [("2026-03-01", "100"), ("2026-03-10", "100"), ("2026-03-25", "100")],
              "C2": [("2026-02-01", "50"), ("2026-03-05", "50")],
              "C3": [("2026-01-10", "30")]}
    with unit_of_work(engine) as session:
        number = 0
        for label, paid in orders.items():
            for day, total in paid:
                number += 1
                at = datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)
                session.add(Order(workspace_id=1, number=f"S{number}",
                                  client_id=people.clients[label], status=OrderStatus.PAID,
                                  total=Decimal(total), cost_total=Decimal("0"), paid_at=at,
                                  created_at=at, updated_at=at))
    return people


def _rfm(name: str, segment: str) -> dict:  # type: ignore[type-arg]
    return {"name": name, "source": {"kind": "rfm", "segment": segment, "period": PERIOD}}


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _counts(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with unit_of_work(engine, write=False) as session:
        return (session.scalar(select(func.count()).select_from(Segment)) or 0,
                session.scalar(select(func.count()).select_from(SegmentMember)) or 0)


def test_marketer_saves_an_rfm_segment_and_exports_ids_only(shop, engine):
    k = shop.http("K")
    created = k.post("/api/v1/segments", json=_rfm("Loyal", "Loyal customers"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["source"], body["member_count"]) == ("rfm", 1)
    assert body["definition"]["rfm_segment"] == "Loyal customers"
    exported = k.get(f"/api/v1/segments/{body['id']}/members.csv")
    assert exported.status_code == 200
    assert exported.headers["cache-control"] == "no-store"
    # marketers may not read clients: the pseudonymous id, no name or phone
    assert _csv(exported) == [["client_id"], [str(shop.clients["C1"])]]
    assert "+7999" not in exported.text and "Client" not in exported.text
    with unit_of_work(engine, write=False) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "segment",
                                                         AuditEvent.action == "export")).one()
    assert (event.actor_id, event.entity_id, event.row_count) == (
        shop.users["K"], body["id"], 1)
    assert event.detail == {"format": "csv", "columns": ["client_id"]}


def test_members_are_found_and_exported_within_the_record_scope(shop):
    h = shop.http("H")
    created = h.post("/api/v1/segments", json=_rfm("Team lost", "Lost"))
    assert created.status_code == 201, created.text
    assert created.json()["member_count"] == 1  # C2: the team's RFM, C3 is not in it
    rows = _csv(h.get(f"/api/v1/segments/{created.json()['id']}/members.csv"))
    # a leading + is neutralised against formula injection, as in every export
    assert rows == [["client_id", "name", "phone", "email"],
                    [str(shop.clients["C2"]), "Client C2", "'+79990000002", ""]]

    loyal = shop.http("K").post("/api/v1/segments", json=_rfm("Loyal", "Loyal customers"))
    path = f"/api/v1/segments/{loyal.json()['id']}/members.csv"
    assert _csv(shop.http("X").get(path))[1] == [str(shop.clients["C1"]), "Client C1",
                                                  "'+79990000001", ""]
    # H2 may export, but C1 belongs to the other team: no row of it
    assert _csv(shop.http("H2").get(path)) == [["client_id", "name", "phone", "email"]]


@pytest.mark.parametrize("who", ["M1", "A"])
def test_roles_without_the_right_cannot_save_and_nothing_changes(shop, engine, who):
    response = shop.http(who).post("/api/v1/segments", json=_rfm("Mine", "Lost"))
    assert response.status_code == 403
    assert _counts(engine) == (0, 0)


def test_reading_exporting_and_deleting_by_role(shop, engine):
    segment_id = shop.http("K").post("/api/v1/segments",
                                     json=_rfm("Loyal", "Loyal customers")).json()["id"]
    assert shop.http("A").get("/api/v1/segments").json()["total"] == 1
    one = shop.http("H").get(f"/api/v1/segments/{segment_id}")
    assert (one.status_code, one.json()["name"], one.json()["member_count"]) == (200, "Loyal", 1)
    assert shop.http("M1").get("/api/v1/segments").status_code == 403
    assert shop.http("M1").get(f"/api/v1/segments/{segment_id}").status_code == 403
    assert shop.http("A").get(f"/api/v1/segments/{segment_id}/members.csv").status_code == 403
    assert shop.http("H").delete(f"/api/v1/segments/{segment_id}").status_code == 403
    assert shop.http("K").get("/api/v1/segments/999999").status_code == 404
    assert _counts(engine) == (1, 1)
    assert shop.http("K").delete(f"/api/v1/segments/{segment_id}").status_code == 204
    assert _counts(engine) == (0, 0)
    assert shop.http("K").get(f"/api/v1/segments/{segment_id}").status_code == 404


def test_mistakes_are_named(shop, engine):
    k = shop.http("K")
    assert k.post("/api/v1/segments", json=_rfm("Loyal", "Loyal customers")).status_code == 201
    taken = k.post("/api/v1/segments", json=_rfm("Loyal", "Lost"))
    assert taken.status_code == 409
    assert taken.json()["error"]["details"][0]["field"] == "name"
    unknown = k.post("/api/v1/segments", json=_rfm("Other", "Best friends"))
    assert unknown.status_code == 422
    assert "unknown RFM segment" in unknown.text
    assert _counts(engine) == (1, 1)


def test_a_behaviour_segment_holds_the_report_segment(shop):
    x = shop.http("X")
    query = {"as_of": "2026-03-31", "k": 2}

    profiles = x.get("/api/v1/analytics/segments", params={"q": json.dumps(query)})
    assert profiles.status_code == 200, profiles.text
    size = profiles.json()["rows"][0]["clients"]
    created = x.post("/api/v1/segments", json={
        "name": "Biggest", "source": {"kind": "behaviour", "query": query, "segment": 0}})
    assert created.status_code == 201, created.text
    assert created.json()["member_count"] == size
    assert created.json()["definition"]["query"]["k"] == 2
