"""Order API over HTTP: exact totals, status machine and history, lines, scope, bad input."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text

from tests.order.support import fields_of, snapshot
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal
from voronka.order.models import Order, OrderLine, OrderStatusChange
from voronka.pipeline.models import Pipeline, Stage

ORDER_TABLES = (Order, OrderLine, OrderStatusChange, AuditEvent)

# The documented transition table, written out again so the test does not trust the code.
ALLOWED = {
    "new": {"confirmed", "paid", "cancelled"},
    "confirmed": {"paid", "cancelled"},
    "paid": {"shipped", "returned"},
    "shipped": {"delivered", "returned"},
    "delivered": {"returned"},
    "cancelled": set(),
    "returned": set(),
}
PATH_TO = {  # a way to reach each status from new
    "new": [],
    "confirmed": ["confirmed"],
    "paid": ["paid"],
    "shipped": ["paid", "shipped"],
    "delivered": ["paid", "shipped", "delivered"],
    "cancelled": ["cancelled"],
    "returned": ["paid", "returned"],
}


def place(api, client_id, lines, number="ORD-1", **extra):
    """Create an order and return the response."""
    return api.post(
        "/api/v1/orders", json={"number": number, "client_id": client_id, "lines": lines, **extra}
    )


def move(api, order, status, **extra):
    """Change an order's status with its current ETag; return the response."""
    etag = api.get(f"/api/v1/orders/{order['id']}").headers["etag"]
    return api.post(
        f"/api/v1/orders/{order['id']}/status",
        json={"status": status, **extra},
        headers={"If-Match": etag},
    )


def test_totals_are_exact_sums_of_lines(people, catalogue, engine):
    api = people.http("M1")
    response = place(
        api,
        people.clients["C1"],
        [
            {"product_id": catalogue["WIDGET"], "quantity": 3},
            {"product_id": catalogue["PENNY"], "quantity": 7},
            {
                "product_id": catalogue["GADGET"],
                "quantity": 1,
                "unit_price": "10.10",
                "unit_cost": "0.1",
            },
            {"product_id": catalogue["GADGET"], "quantity": 2, "unit_price": 0.2},
        ],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [(x["unit_price"], x["unit_cost"], x["amount"]) for x in body["lines"]] == [
        ("33.33", "20.00", "99.99"),
        ("0.01", "0.00", "0.07"),
        ("10.10", "0.10", "10.10"),
        ("0.20", "7.50", "0.40"),
    ]
    assert (body["total"], body["cost_total"]) == ("110.56", "75.10")
    assert (body["status"], body["currency"], body["paid_at"]) == ("new", "RUB", None)
    assert body["owner_id"] == people.users["M1"]
    with unit_of_work(engine) as session:
        order = session.get(Order, body["id"])
        assert (order.total, order.cost_total) == (Decimal("110.56"), Decimal("75.10"))
        raw = session.execute(text("SELECT total_minor FROM sales_order")).scalar_one()
        assert raw == 11056


def test_creation_appends_the_first_status_change(people, catalogue, frozen_clock):
    api = people.http("M1")
    order = place(api, people.clients["C1"], [{"product_id": catalogue["PENNY"], "quantity": 1}])
    history = api.get(f"/api/v1/orders/{order.json()['id']}/history").json()
    assert [
        (h["from_status"], h["to_status"], h["changed_at"], h["changed_by_id"]) for h in history
    ] == [(None, "new", "2026-03-01T09:00:00Z", people.users["M1"])]
    assert order.json()["created_at"] == "2026-03-01T09:00:00Z"


def test_every_status_transition_follows_the_table(people, catalogue, engine):
    api = people.http("M1")
    client_id, line = people.clients["C1"], [{"product_id": catalogue["PENNY"], "quantity": 1}]
    seen: dict[str, set[str]] = {}
    for number, (start, target) in enumerate((s, t) for s in ALLOWED for t in ALLOWED):
        order = place(api, client_id, line, number=f"T-{number}").json()
        for step in PATH_TO[start]:
            assert move(api, order, step).status_code == 200
        before = snapshot(engine, Order, OrderStatusChange)
        response = move(api, order, target)
        if response.status_code == 200:
            seen.setdefault(start, set()).add(target)
            assert response.json()["status"] == target
            continue
        error = response.json()["error"]
        assert (response.status_code, error["code"]) == (409, "transition_not_allowed")
        assert error["details"][0]["field"] == "status"
        reason = error["details"][0]["message"]
        assert reason == (
            f"{start} is final"
            if not ALLOWED[start]
            else f"from {start} an order can go to: {', '.join(sorted(ALLOWED[start]))}"
        )
        assert snapshot(engine, Order, OrderStatusChange) == before
    assert {s: seen.get(s, set()) for s in ALLOWED} == ALLOWED


def test_paid_at_is_set_on_paid_and_kept_and_history_is_appended(people, catalogue, frozen_clock):
    api = people.http("M1")
    order = place(
        api, people.clients["C1"], [{"product_id": catalogue["WIDGET"], "quantity": 1}]
    ).json()
    frozen_clock.move(datetime(2026, 3, 1, 18, 0, tzinfo=UTC))
    confirmed = move(api, order, "confirmed", changed_at="2026-03-01T13:00:00+03:00")
    assert confirmed.json()["paid_at"] is None
    paid = move(api, order, "paid", changed_at="2026-03-01T14:30:00+03:00")
    assert paid.json()["paid_at"] == "2026-03-01T11:30:00Z"
    move(api, order, "shipped")
    returned = move(api, order, "returned")
    assert (returned.json()["status"], returned.json()["paid_at"]) == (
        "returned",
        "2026-03-01T11:30:00Z",
    )
    assert returned.headers["etag"] == f'"{order["id"]}-5"'
    history = api.get(f"/api/v1/orders/{order['id']}/history").json()
    assert [(h["from_status"], h["to_status"], h["changed_at"]) for h in history] == [
        (None, "new", "2026-03-01T09:00:00Z"),
        ("new", "confirmed", "2026-03-01T10:00:00Z"),
        ("confirmed", "paid", "2026-03-01T11:30:00Z"),
        ("paid", "shipped", "2026-03-01T18:00:00Z"),
        ("shipped", "returned", "2026-03-01T18:00:00Z"),
    ]
    paid_filter = api.get(
        "/api/v1/orders",
        params={"paid_from": "2026-03-01T11:30:00Z", "paid_to": "2026-03-01T11:30:01Z"},
    ).json()
    assert [o["id"] for o in paid_filter["items"]] == [order["id"]]


def test_change_time_must_be_aware_ordered_and_not_in_the_future(
    people, catalogue, engine, frozen_clock
):
    api = people.http("M1")
    order = place(
        api, people.clients["C1"], [{"product_id": catalogue["PENNY"], "quantity": 1}]
    ).json()
    before = snapshot(engine, *ORDER_TABLES)
    for changed_at in (
        "2026-03-01T10:00:00",
        "2026-02-28T23:00:00Z",
        "2026-03-02T00:00:00Z",
        "yesterday",
    ):
        response = move(api, order, "paid", changed_at=changed_at)
        assert response.status_code == 422, changed_at
        assert fields_of(response) == ["changed_at"]
    assert snapshot(engine, *ORDER_TABLES) == before


def test_status_change_needs_the_current_etag(people, catalogue, engine):
    api = people.http("M1")
    created = place(api, people.clients["C1"], [{"product_id": catalogue["PENNY"], "quantity": 1}])
    url = f"/api/v1/orders/{created.json()['id']}/status"
    assert api.post(url, json={"status": "paid"}).status_code == 428
    assert (
        api.post(
            url, json={"status": "confirmed"}, headers={"If-Match": created.headers["etag"]}
        ).status_code
        == 200
    )
    before = snapshot(engine, *ORDER_TABLES)
    stale = api.post(url, json={"status": "paid"}, headers={"If-Match": created.headers["etag"]})
    assert (stale.status_code, stale.json()["error"]["code"]) == (412, "precondition_failed")
    assert snapshot(engine, *ORDER_TABLES) == before


def test_concurrent_status_changes_record_exactly_one(people, catalogue, engine):
    created = place(
        people.http("M1"), people.clients["C1"], [{"product_id": catalogue["PENNY"], "quantity": 1}]
    )
    url = f"/api/v1/orders/{created.json()['id']}/status"
    clients = [people.http("M1"), people.http("H")]
    barrier, results = threading.Barrier(2), []

    def pay(api):
        barrier.wait()
        results.append(
            api.post(
                url, json={"status": "paid"}, headers={"If-Match": created.headers["etag"]}
            ).status_code
        )

    threads = [threading.Thread(target=pay, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 412]
    with unit_of_work(engine) as session:
        changes = session.scalars(select(OrderStatusChange.to_status)).all()
    assert sorted(changes) == ["new", "paid"]


def test_lines_change_only_while_new_or_confirmed(people, catalogue, engine):
    api = people.http("M1")
    order = place(
        api, people.clients["C1"], [{"product_id": catalogue["WIDGET"], "quantity": 1}]
    ).json()
    move(api, order, "confirmed")
    etag = api.get(f"/api/v1/orders/{order['id']}").headers["etag"]
    changed = api.patch(
        f"/api/v1/orders/{order['id']}",
        headers={"If-Match": etag},
        json={
            "lines": [
                {"product_id": catalogue["WIDGET"], "quantity": 3},
                {"product_id": catalogue["PENNY"], "quantity": 1, "unit_price": "0.02"},
            ]
        },
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["total"], changed.json()["cost_total"]) == ("100.01", "60.00")
    assert [x["quantity"] for x in changed.json()["lines"]] == [3, 1]
    move(api, order, "paid")
    before = snapshot(engine, *ORDER_TABLES)
    etag = api.get(f"/api/v1/orders/{order['id']}").headers["etag"]
    locked = api.patch(
        f"/api/v1/orders/{order['id']}",
        headers={"If-Match": etag},
        json={"lines": [{"product_id": catalogue["PENNY"], "quantity": 1}]},
    )
    assert (locked.status_code, locked.json()["error"]["code"]) == (409, "order_locked")
    assert fields_of(locked) == ["lines"]
    assert snapshot(engine, *ORDER_TABLES) == before


def test_order_number_is_unique(people, catalogue, engine):
    line = [{"product_id": catalogue["PENNY"], "quantity": 1}]
    assert place(people.http("M1"), people.clients["C1"], line).status_code == 201
    before = snapshot(engine, *ORDER_TABLES)
    again = place(people.http("X"), people.clients["C2"], line)
    assert again.status_code == 409
    assert fields_of(again) == ["number"]
    assert snapshot(engine, *ORDER_TABLES) == before


def _orders_of_every_client(people, catalogue):
    line = [{"product_id": catalogue["PENNY"], "quantity": 1}]
    admin = people.http("X")
    return {
        label: place(admin, client_id, line, number=f"N-{label}").json()
        for label, client_id in people.clients.items()
    }


def test_orders_are_visible_exactly_when_their_client_is(people, catalogue):
    _orders_of_every_client(people, catalogue)
    expected = {
        "X": ["C1", "C2", "C3"],
        "H": ["C1", "C2"],
        "M1": ["C1"],
        "M2": ["C2"],
        "H2": ["C3"],
        "M3": ["C3"],
    }
    for who, labels in expected.items():
        listed = people.http(who).get("/api/v1/orders", params={"sort": "number"}).json()
        assert [o["number"] for o in listed["items"]] == [f"N-{x}" for x in labels], who
        assert listed["total"] == len(labels)
    for who in ("K", "A"):
        assert people.http(who).get("/api/v1/orders").status_code == 403
    filtered = (
        people.http("M1").get("/api/v1/orders", params={"client_id": people.clients["C2"]}).json()
    )
    assert (filtered["items"], filtered["total"]) == ([], 0)


def test_m1_gets_404_on_every_path_of_other_clients_orders(people, catalogue, engine):
    orders = _orders_of_every_client(people, catalogue)
    api = people.http("M1")
    missing = api.get("/api/v1/orders/999999")
    before = snapshot(engine, *ORDER_TABLES)
    for label in ("C2", "C3"):
        order_id = orders[label]["id"]
        etag = f'"{order_id}-1"'
        calls = [
            api.get(f"/api/v1/orders/{order_id}"),
            api.get(f"/api/v1/orders/{order_id}/history"),
            api.patch(
                f"/api/v1/orders/{order_id}",
                json={"lines": [{"product_id": catalogue["PENNY"], "quantity": 9}]},
                headers={"If-Match": etag},
            ),
            api.post(
                f"/api/v1/orders/{order_id}/status",
                json={"status": "paid"},
                headers={"If-Match": etag},
            ),
        ]
        for response in calls:
            assert response.status_code == 404
            body = response.json()["error"]
            assert (body["code"], body["message"]) == (
                missing.json()["error"]["code"],
                missing.json()["error"]["message"],
            )
            assert f"N-{label}" not in response.text
    denied = place(
        api,
        people.clients["C2"],
        [{"product_id": catalogue["PENNY"], "quantity": 1}],
        number="SNEAKY",
    )
    assert denied.status_code == 422
    assert fields_of(denied) == ["client_id"]
    assert denied.json()["error"]["message"] == "client_id: no such client"
    assert snapshot(engine, *ORDER_TABLES) == before


def _deal(engine, client_id, owner_id):
    with unit_of_work(engine) as session:
        pipeline = Pipeline(workspace_id=1, name="Sales")
        session.add(pipeline)
        session.flush()
        stage = Stage(workspace_id=1, pipeline_id=pipeline.id, name="New", position=0)
        session.add(stage)
        session.flush()
        deal = Deal(
            workspace_id=1,
            title="Deal",
            client_id=client_id,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            owner_id=owner_id,
            stage_entered_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
        session.add(deal)
        session.flush()
        return deal.id


def test_deal_must_belong_to_the_orders_client(people, catalogue, engine):
    deal_of_c1 = _deal(engine, people.clients["C1"], people.users["M1"])
    deal_of_c2 = _deal(engine, people.clients["C2"], people.users["M2"])
    api, line = people.http("M1"), [{"product_id": catalogue["PENNY"], "quantity": 1}]
    before = snapshot(engine, *ORDER_TABLES)
    for deal_id in (deal_of_c2, 999999):
        wrong = place(api, people.clients["C1"], line, deal_id=deal_id)
        assert wrong.status_code == 422
        assert fields_of(wrong) == ["deal_id"]
    assert snapshot(engine, *ORDER_TABLES) == before
    order = place(api, people.clients["C1"], line, deal_id=deal_of_c1)
    assert order.json()["deal_id"] == deal_of_c1
    relinked = api.patch(
        f"/api/v1/orders/{order.json()['id']}",
        json={"deal_id": deal_of_c2},
        headers={"If-Match": order.headers["etag"]},
    )
    assert relinked.status_code == 422
    by_deal = api.get("/api/v1/orders", params={"deal_id": deal_of_c1}).json()
    assert [o["id"] for o in by_deal["items"]] == [order.json()["id"]]


def test_filters_and_sorting(people, catalogue, frozen_clock):
    api = people.http("H")
    line = [{"product_id": catalogue["WIDGET"], "quantity": 1}]
    small = place(api, people.clients["C1"], line, number="A").json()
    frozen_clock.move(datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
    big = place(api, people.clients["C2"], [{**line[0], "quantity": 5}], number="B").json()
    move(api, big, "paid")

    def numbers(**params):
        response = api.get("/api/v1/orders", params=params)
        assert response.status_code == 200, response.text
        return [o["number"] for o in response.json()["items"]]

    assert numbers() == ["B", "A"]
    assert numbers(sort="total") == ["A", "B"]
    assert numbers(sort="-total") == ["B", "A"]
    assert numbers(status="paid") == ["B"]
    assert numbers(client_id=people.clients["C1"]) == ["A"]
    assert numbers(owner_id=people.users["M2"]) == ["B"]
    assert numbers(created_from="2026-03-01T12:00:00Z") == ["B"]
    assert numbers(created_to="2026-03-01T15:00:00+03:00") == ["A"]
    assert numbers(paid_from="2026-03-01T00:00:00Z") == ["B"]
    assert small["owner_id"] == people.users["M1"]
    for params, field in (
        ({"sort": "client.name"}, "sort"),
        ({"sort": "total;--"}, "sort"),
        ({"created_from": "2026-03-01T00:00:00"}, "created_from"),
        ({"status": "lost"}, "status"),
        ({"owner_id": "me"}, "owner_id"),
    ):
        response = api.get("/api/v1/orders", params=params)
        assert 400 <= response.status_code < 500
        assert field in fields_of(response)
    outside = people.http("M1").get("/api/v1/orders", params={"owner_id": people.users["M2"]})
    assert outside.status_code == 403
    assert fields_of(outside) == ["owner_id"]


BAD_ORDER_INPUT = [  # product_id 0 stands for a real product
    ({"lines": []}, "lines"),
    ({"lines": [{"product_id": 0, "quantity": 0}]}, "lines.0.quantity"),
    ({"lines": [{"product_id": 0, "quantity": "three"}]}, "lines.0.quantity"),
    ({"lines": [{"product_id": 0, "quantity": 1, "unit_price": "33.333"}]}, "lines.0.unit_price"),
    ({"lines": [{"product_id": 0, "quantity": 1, "unit_cost": "-0.01"}]}, "lines.0.unit_cost"),
    ({"lines": [{"product_id": 0, "quantity": 1, "discount": "1"}]}, "lines.0.discount"),
    ({"lines": [{"product_id": 999999, "quantity": 1}]}, "lines.0.product_id"),
    ({"status": "paid"}, "status"),
    ({"total": "0.01"}, "total"),
    ({"paid_at": "2026-03-01T00:00:00Z"}, "paid_at"),
    ({"currency": "rub"}, "currency"),
    ({"client_id": "C1"}, "client_id"),
    ({"number": ""}, "number"),
]


def test_bad_order_input_names_the_field_and_stores_nothing(people, catalogue, engine):
    valid = {
        "number": "N-1",
        "client_id": people.clients["C1"],
        "lines": [{"product_id": catalogue["WIDGET"], "quantity": 1}],
    }
    before = snapshot(engine, *ORDER_TABLES)
    for change, field in BAD_ORDER_INPUT:
        payload = {**valid, **copy.deepcopy(change)}
        for line in payload["lines"]:
            line["product_id"] = line["product_id"] or catalogue["WIDGET"]
        response = people.http("M1").post("/api/v1/orders", json=payload)
        assert response.status_code == 422, (change, response.text)
        assert field in fields_of(response), (change, response.json())
    assert snapshot(engine, *ORDER_TABLES) == before


def test_foreign_currency_product_needs_an_explicit_price(people, catalogue, engine):
    api = people.http("M1")
    before = snapshot(engine, *ORDER_TABLES)
    line = {"product_id": catalogue["IMPORTED"], "quantity": 2}
    refused = place(api, people.clients["C1"], [line])
    assert refused.status_code == 422
    assert fields_of(refused) == ["lines.0.unit_price"]
    assert snapshot(engine, *ORDER_TABLES) == before
    in_usd = place(api, people.clients["C1"], [line], currency="USD")
    assert (in_usd.json()["total"], in_usd.json()["currency"]) == ("10.00", "USD")
    priced = place(
        api,
        people.clients["C1"],
        [{**line, "unit_price": "450", "unit_cost": "300"}],
        number="ORD-2",
    )
    assert (priced.json()["total"], priced.json()["cost_total"]) == ("900.00", "600.00")


def test_deleting_orders(people, catalogue, engine):
    line = [{"product_id": catalogue["PENNY"], "quantity": 1}]
    unpaid = place(people.http("M1"), people.clients["C1"], line, number="U")
    paid = place(people.http("M1"), people.clients["C1"], line, number="P").json()
    move(people.http("M1"), paid, "paid")
    before = snapshot(engine, *ORDER_TABLES)
    url = f"/api/v1/orders/{unpaid.json()['id']}"
    assert (
        people.http("M1").delete(url, headers={"If-Match": unpaid.headers["etag"]}).status_code
        == 403
    )
    assert (
        people.http("H2").delete(url, headers={"If-Match": unpaid.headers["etag"]}).status_code
        == 404
    )
    paid_url = f"/api/v1/orders/{paid['id']}"
    refused = people.http("H").delete(paid_url, headers={"If-Match": f'"{paid["id"]}-2"'})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "in_use")
    assert snapshot(engine, *ORDER_TABLES) == before
    assert (
        people.http("H").delete(url, headers={"If-Match": unpaid.headers["etag"]}).status_code
        == 204
    )
    assert people.http("M1").get(url).status_code == 404
    with unit_of_work(engine) as session:
        assert session.get(Order, unpaid.json()["id"]).is_deleted is True


def test_owner_defaults_to_the_clients_owner_and_stays_in_scope(people, catalogue, engine):
    line = [{"product_id": catalogue["PENNY"], "quantity": 1}]
    by_admin = place(people.http("X"), people.clients["C2"], line, number="A")
    assert by_admin.json()["owner_id"] == people.users["M2"]
    before = snapshot(engine, *ORDER_TABLES)
    outside = place(
        people.http("M1"), people.clients["C1"], line, number="B", owner_id=people.users["M2"]
    )
    assert (outside.status_code, fields_of(outside)) == (403, ["owner_id"])
    unknown = place(people.http("H"), people.clients["C1"], line, number="B", owner_id=999999)
    assert (unknown.status_code, fields_of(unknown)) == (422, ["owner_id"])
    assert snapshot(engine, *ORDER_TABLES) == before
    by_head = place(
        people.http("H"), people.clients["C2"], line, number="B", owner_id=people.users["M1"]
    )
    assert (by_head.status_code, by_head.json()["owner_id"]) == (201, people.users["M1"])


def test_order_changes_are_audited(people, catalogue, engine):
    api = people.http("M1")
    order = place(api, people.clients["C1"], [{"product_id": catalogue["PENNY"], "quantity": 1}])
    move(api, order.json(), "paid")
    with unit_of_work(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "order").order_by(AuditEvent.id)
        ).all()
    assert [(e.action, e.entity_id, e.actor_id, e.changes) for e in events] == [
        ("create", order.json()["id"], people.users["M1"], None),
        ("update", order.json()["id"], people.users["M1"], {"status": ["new", "paid"]}),
    ]
