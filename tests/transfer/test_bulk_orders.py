"""Bulk order import: one row per line, grouped by order number, exact money, status history.

The cast's clients C1 (+79990000001, owner M1), C2 (+79990000002, M2) and C3 (+79990000003,
M3, another team) buy SKU-1 (100.00, cost 60.00) and SKU-2 (99.99, cost 50.00). Times
without an offset are Moscow time (UTC+3). Every expected number is worked out by hand in
the comment next to it.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from tests.transfer import test_import_runs_api, test_transfer_cli
from tests.transfer.conftest import create_bulk_run
from tests.transfer.files import write_csv, write_xlsx
from voronka.access.actor import Actor
from voronka.audit.models import AuditEvent
from voronka.campaign.models import Campaign, Channel, ChannelKind
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal
from voronka.errors import Forbidden, InvalidInput
from voronka.jobs import run_pending
from voronka.order.models import Order, OrderLine, OrderStatusChange, Product
from voronka.transfer.bulk import runner
from voronka.transfer.bulk.activities import NO_CLIENT
from voronka.transfer.bulk.orders import UNKNOWN_SKU
from voronka.transfer.models import ImportRun, RunStatus
from voronka.transfer.options import ImportMode, OnDuplicate

HEADER = [
    "Номер заказа",
    "Телефон",
    "Артикул",
    "Количество",
    "Цена",
    "Скидка",
    "Сумма строки",
    "Итого",
    "Статус",
    "Дата заказа",
    "Дата оплаты",
]


# fixtures of the API and command-line tests, used here too
upload_dir = test_import_runs_api.upload_dir
voronka = test_transfer_cli.voronka


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def catalogue(engine, people):
    with unit_of_work(engine) as session:
        for sku, price, cost in (("SKU-1", "100.00", "60.00"), ("SKU-2", "99.99", "50.00")):
            session.add(
                Product(
                    workspace_id=1,
                    sku=sku,
                    name=sku,
                    price=Decimal(price),
                    cost_price=Decimal(cost),
                    currency="RUB",
                )
            )
        session.flush()
        return dict(session.execute(select(Product.sku, Product.id)).all())


def orders(engine):
    """number → (client, owner, status, total, cost_total, paid_at, created_at, version)."""
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(
                Order.number,
                Order.client_id,
                Order.owner_id,
                Order.status,
                Order.total,
                Order.cost_total,
                Order.paid_at,
                Order.created_at,
                Order.version,
            )
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def lines(engine, number):
    with unit_of_work(engine, write=False) as session:
        return [
            tuple(r)
            for r in session.execute(
                select(Product.sku, OrderLine.quantity, OrderLine.unit_price, OrderLine.unit_cost)
                .join(Order, Order.id == OrderLine.order_id)
                .join(Product, Product.id == OrderLine.product_id)
                .where(Order.number == number)
                .order_by(OrderLine.id)
            )
        ]


def history(engine, number):
    with unit_of_work(engine, write=False) as session:
        return [
            tuple(r)
            for r in session.execute(
                select(
                    OrderStatusChange.from_status,
                    OrderStatusChange.to_status,
                    OrderStatusChange.changed_at,
                )
                .join(Order, Order.id == OrderStatusChange.order_id)
                .where(Order.number == number)
                .order_by(OrderStatusChange.id)
            )
        ]


def good_file(tmp_path, name="o.csv"):
    return write_csv(
        tmp_path / name,
        [
            HEADER,
            # 2 × 100.00 = 200.00; 3 × 99.99 − 10.00 = 289.97; 1 × 100.00 − 10 % = 90.00
            [
                "A-1",
                "+79990000001",
                "SKU-1",
                "2",
                "100,00",
                "",
                "200,00",
                "579,97",
                "оплачен",
                "01.11.2026 10:00",
                "02.11.2026 12:30",
            ],
            ["A-1", "", "SKU-2", "3", "", "10", "", "", "", "", ""],
            ["A-1", "", "SKU-1", "1", "100", "10%", "90", "", "", "", ""],
            # B-7: the product's own price 99.99
            [
                "B-7",
                "8 (999) 000-00-02",
                "SKU-2",
                "1",
                "",
                "",
                "",
                "",
                "новый",
                "03.11.2026 09:00",
                "",
            ],
        ],
        delimiter=";",
    )


def test_orders_with_lines_are_grouped_priced_and_given_their_history(
    engine, people, catalogue, bulk_import, tmp_path
):
    run = bulk_import(good_file(tmp_path), "orders")
    assert (run.total, run.created, run.duplicates, run.failed) == (4, 4, 0, 0)
    c1, c2, m1, m2 = (
        people.clients["C1"],
        people.clients["C2"],
        people.users["M1"],
        people.users["M2"],
    )
    assert orders(engine) == {
        # 200.00 + 289.97 + 90.00 = 579.97; cost 2·60 + 3·50 + 1·60 = 330.00
        "A-1": (
            c1,
            m1,
            "paid",
            Decimal("579.97"),
            Decimal("330.00"),
            utc(2026, 11, 2, 9, 30),
            utc(2026, 11, 1, 7),
            1,
        ),
        "B-7": (c2, m2, "new", Decimal("99.99"), Decimal("50.00"), None, utc(2026, 11, 3, 6), 1),
    }
    # 289.97 over 3 units is 96.656…: stored as 2 × 96.66 + 1 × 96.65 = 289.97 exactly
    assert lines(engine, "A-1") == [
        ("SKU-1", 2, Decimal("100.00"), Decimal("60.00")),
        ("SKU-2", 2, Decimal("96.66"), Decimal("50.00")),
        ("SKU-2", 1, Decimal("96.65"), Decimal("50.00")),
        ("SKU-1", 1, Decimal("90.00"), Decimal("60.00")),
    ]
    assert history(engine, "A-1") == [
        (None, "new", utc(2026, 11, 1, 7)),
        ("new", "paid", utc(2026, 11, 2, 9, 30)),
    ]
    assert history(engine, "B-7") == [(None, "new", utc(2026, 11, 3, 6))]
    # redelivery of the same file changes nothing
    again = bulk_import(good_file(tmp_path), "orders")
    assert (again.created, again.updated, again.duplicates, again.failed) == (0, 0, 4, 0)
    updated = bulk_import(good_file(tmp_path), "orders", on_duplicate=OnDuplicate.UPDATE)
    assert (updated.created, updated.updated, updated.duplicates) == (0, 0, 4)
    assert orders(engine)["A-1"][-1] == 1 and len(history(engine, "A-1")) == 2


def test_update_rewrites_lines_and_appends_the_status_change(
    engine, people, catalogue, bulk_import, tmp_path
):
    bulk_import(good_file(tmp_path), "orders")
    changed = write_xlsx(
        tmp_path / "o2.xlsx",
        [
            [
                "number",
                "phone",
                "sku",
                "quantity",
                "unit_price",
                "status",
                "ordered_at",
                "paid_at",
                "status_at",
            ],
            [
                "A-1",
                "+79990000001",
                "SKU-1",
                5,
                "100.00",
                "shipped",
                "2026-11-01 10:00",
                "2026-11-02 12:30",
                "2026-11-04 15:00+03:00",
            ],
            ["B-7", "+79990000002", "SKU-2", 1, "", "new", "2026-11-03 09:00", "", ""],
        ],
    )
    run = bulk_import(changed, "orders", on_duplicate=OnDuplicate.UPDATE)
    assert (run.created, run.updated, run.duplicates) == (0, 1, 1)
    a1 = orders(engine)["A-1"]
    # 5 × 100.00 = 500.00, cost 5 × 60.00 = 300.00; version 2
    assert (a1[2], a1[3], a1[4], a1[-1]) == ("shipped", Decimal("500.00"), Decimal("300.00"), 2)
    assert lines(engine, "A-1") == [("SKU-1", 5, Decimal("100.00"), Decimal("60.00"))]
    assert history(engine, "A-1")[-1] == ("paid", "shipped", utc(2026, 11, 4, 12))
    assert orders(engine)["B-7"][-1] == 1
    with pytest.raises(InvalidInput):
        bulk_import(changed, "orders", on_duplicate=OnDuplicate.CREATE)


def test_a_bad_line_rejects_its_whole_order_and_every_row_is_reported(
    engine, people, catalogue, bulk_import, tmp_path
):
    path = write_csv(
        tmp_path / "bad.csv",
        [
            [
                "number",
                "phone",
                "sku",
                "quantity",
                "unit_price",
                "line_total",
                "total",
                "status",
                "ordered_at",
                "paid_at",
            ],
            ["O-1", "+79990000001", "SKU-1", "1", "100", "", "", "paid", "2026-11-01", ""],
            ["O-2", "+79990000001", "SKU-1", "2", "100", "150", "", "new", "2026-11-01", ""],
            ["O-2", "", "NOPE", "1", "5", "", "", "", "", ""],
            ["O-2", "", "SKU-2", "1", "", "", "", "", "", ""],
            ["O-3", "+79990000001", "SKU-1", "0", "100", "", "", "new", "2026-11-01", ""],
            ["O-4", "+79990000001", "SKU-1", "1", "100", "", "99", "new", "2026-11-01", ""],
            ["O-5", "+79990000002", "SKU-1", "1", "100", "", "", "new", "2026-11-01", "2026-11-02"],
            ["O-6", "+79990000009", "SKU-1", "1", "100", "", "", "new", "2026-11-01", ""],
            ["O-7", "+79990000001", "SKU-1", "1", "100", "", "", "new", "2026-11-01", ""],
            ["O-7", "+79990000002", "SKU-2", "1", "", "", "", "", "", ""],
            ["O-8", "+79990000001", "SKU-1", "1", "100", "", "", "new", "2030-01-01", ""],
        ],
    )
    run = bulk_import(path, "orders", mode=ImportMode.PER_ROW)
    rejected = "order {0}: row {1} has an error, so none of its rows is imported"
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (3, "line_total", "the line comes to 200.00 (quantity × unit price − discount)"),
        (4, "sku", UNKNOWN_SKU),
        (5, "number", rejected.format("O-2", 3)),
        (6, "quantity", "a whole number from 1 to 1000000000"),
        (7, "total", "the lines add up to 100.00"),
        (8, "paid_at", "a new order has no payment date"),
        (9, "phone", NO_CLIENT),
        (10, "number", rejected.format("O-7", 11)),
        (11, "phone", "differs from row 10 of the same record"),
        (12, "ordered_at", "the order's dates must not be in the future"),
    ]
    assert (run.total, run.created, run.failed) == (11, 1, 10)
    assert list(orders(engine)) == ["O-1"]
    # a paid order without a payment date was paid when it was made
    assert history(engine, "O-1") == [
        (None, "new", utc(2026, 10, 31, 21)),
        ("new", "paid", utc(2026, 10, 31, 21)),
    ]
    atomic = bulk_import(path, "orders", mode=ImportMode.ATOMIC)
    assert (atomic.status, atomic.failed) == (RunStatus.REFUSED, 10)


def test_atomic_and_dry_runs_write_nothing(engine, people, catalogue, bulk_import, tmp_path):
    path = good_file(tmp_path)
    dry = bulk_import(path, "orders", dry_run=True)
    assert (dry.total, dry.created, dry.failed) == (4, 4, 0)
    assert orders(engine) == {}
    broken = write_csv(
        tmp_path / "b.csv",
        [
            HEADER,
            *[line.split(";") for line in path.read_text().splitlines()[1:]],
            ["C-1", "+79990000001", "NOPE", "1", "1", "", "", "", "новый", "01.11.2026", ""],
        ],
    )
    refused = bulk_import(broken, "orders", mode=ImportMode.ATOMIC)
    assert (refused.status, refused.failed, refused.errors[0]["row"]) == (RunStatus.REFUSED, 1, 6)
    assert orders(engine) == {}


def test_unknown_skus_can_be_created_and_utm_values_name_the_campaign(
    engine, people, catalogue, bulk_import, tmp_path
):
    with unit_of_work(engine) as session:
        channel = Channel(workspace_id=1, slug="ads", name="Реклама", kind=ChannelKind.PAID_SEARCH)
        session.add(channel)
        session.flush()
        campaign = Campaign(
            workspace_id=1,
            name="Осень",
            channel_id=channel.id,
            utm_source="yandex",
            utm_campaign="autumn",
        )
        session.add(campaign)
        session.flush()
        ids = (channel.id, campaign.id)
    path = write_csv(
        tmp_path / "n.csv",
        [
            [
                "number",
                "email",
                "client_id",
                "sku",
                "product_name",
                "quantity",
                "unit_price",
                "ordered_at",
                "utm_source",
                "utm_campaign",
            ],
            [
                "N-1",
                "",
                str(people.clients["C1"]),
                "NEW-1",
                "Плед",
                "2",
                "1500.50",
                "2026-11-05 10:00",
                "Yandex",
                "AUTUMN",
            ],
        ],
    )
    refused = bulk_import(path, "orders", mode=ImportMode.PER_ROW)
    assert [(e["field"], e["message"]) for e in refused.errors] == [("sku", UNKNOWN_SKU)]
    run = bulk_import(path, "orders", extra={"create_products": True})
    assert (run.created, run.failed) == (1, 0)
    with unit_of_work(engine, write=False) as session:
        order = session.scalars(select(Order)).one()
        product = session.scalars(select(Product).where(Product.sku == "NEW-1")).one()
        assert (order.channel_id, order.campaign_id, order.total) == (*ids, Decimal("3001.00"))
        assert (product.name, product.price, product.currency) == (
            "Плед",
            Decimal("1500.50"),
            "RUB",
        )


def test_a_head_imports_orders_of_their_team_only_and_managers_not_at_all(
    engine, people, catalogue, bulk_import, tmp_path
):
    path = write_csv(
        tmp_path / "s.csv",
        [
            ["number", "phone", "sku", "quantity", "ordered_at"],
            ["S-1", "+79990000001", "SKU-1", "1", "2026-11-01"],
            ["S-3", "+79990000003", "SKU-1", "1", "2026-11-01"],
        ],
    )
    run = bulk_import(path, "orders", who="H", mode=ImportMode.PER_ROW)
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [(3, "phone", NO_CLIENT)]
    assert list(orders(engine)) == ["S-1"]
    # skipping goes by number alone: the stored S-1 is a duplicate whatever client the row names
    again = bulk_import(
        write_csv(
            tmp_path / "s3.csv",
            [
                ["number", "phone", "sku", "quantity", "ordered_at"],
                ["S-1", "+79990000003", "SKU-1", "1", "2026-11-01"],
            ],
        ),
        "orders",
        who="X",
    )
    assert again.duplicates == 1
    with pytest.raises(Forbidden):
        bulk_import(path, "orders", who="M1")
    with unit_of_work(engine, write=False) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "import").order_by(AuditEvent.id)
        ).all()
    assert [(e.entity, e.detail["created"]) for e in events] == [("order", 1), ("order", 0)]


@contextmanager
def failing_order_insert(engine, after: int):
    seen = {"inserts": 0}

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("INSERT INTO sales_order ("):
            seen["inserts"] += 1
            if seen["inserts"] == after:
                raise RuntimeError("server gone")

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_batches_keep_an_order_whole_and_a_crashed_run_resumes(engine, people, catalogue, tmp_path):
    rows = [["number", "phone", "sku", "quantity", "ordered_at"]]
    for n in range(1, 6):  # orders R-1 … R-5 of 3 lines each: rows 2-4, 5-7, …, 14-16
        rows += [[f"R-{n}", "+79990000001", "SKU-1", str(k), "2026-11-01"] for k in (1, 2, 3)]
    path = write_csv(tmp_path / "r.csv", rows)
    actor = Actor.system()
    run_id = create_bulk_run(engine, path, "orders", actor, mode=ImportMode.PER_ROW, batch_size=4)
    # batches grow to the end of an order: rows 2-7 (4 rows + the rest of R-2), 8-13, 14-16
    with failing_order_insert(engine, after=2), pytest.raises(RuntimeError):
        runner.execute(engine, run_id, actor=actor)
    with unit_of_work(engine, write=False) as session:
        run = session.get_one(ImportRun, run_id)
        assert (run.status, run.checkpoint_row, run.created) == (RunStatus.FAILED, 7, 6)
    assert sorted(orders(engine)) == ["R-1", "R-2"]
    resumed = runner.execute(engine, run_id, actor=actor)
    assert (resumed.status, resumed.total, resumed.created, resumed.duplicates) == (
        RunStatus.DONE,
        15,
        15,
        0,
    )
    # each order: 1 + 2 + 3 = 6 units of 100.00
    assert {n: o[3] for n, o in orders(engine).items()} == {
        f"R-{n}": Decimal("600.00") for n in range(1, 6)
    }
    assert [q for _, q, *_ in lines(engine, "R-3")] == [1, 2, 3]


def test_orders_over_http_and_the_command_line(
    engine,
    people,
    catalogue,
    upload_dir,
    voronka,
    tmp_path,
):
    content = (
        "number,phone,sku,product_name,quantity,unit_price,ordered_at\r\n"
        "H-1,+79990000001,NEW-9,Свеча,3,10.50,2026-11-01\r\n".encode()
    )
    response = people.http("H").post(
        "/api/v1/imports/bulk/orders",
        files={"file": ("o.csv", content)},
        data={"mode": "per-row", "create_products": "true"},
    )
    assert response.status_code == 202, response.text
    assert run_pending(engine) == 1
    detail = people.http("H").get(f"/api/v1/imports/runs/{response.json()['id']}").json()
    assert (detail["status"], detail["created"], detail["sample"]) == (
        "done",
        1,
        [{"row": 2, "outcome": "create", "order": "H-1"}],
    )
    assert orders(engine)["H-1"][3] == Decimal("31.50")  # 3 × 10.50
    refused = people.http("M1").post(
        "/api/v1/imports/bulk/orders", files={"file": ("o.csv", content)}
    )
    assert refused.status_code == 403
    # one command-line run (each starts a process): the orders target and its options
    result = voronka(
        "import", "orders", str(good_file(tmp_path)), "--on-duplicate", "update", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    assert (json.loads(result.stdout)["created"], json.loads(result.stdout)["failed"]) == (4, 0)


def test_an_order_names_its_deal_by_external_id(
    engine, people, sales, catalogue, bulk_import, tmp_path
):
    deals = write_csv(
        tmp_path / "d.csv",
        [
            ["external_id", "title", "phone", "created_at"],
            ["DL-1", "Поставка", "+79990000001", "2026-11-01"],
        ],
    )
    assert bulk_import(deals, "deals").created == 1
    path = write_csv(
        tmp_path / "o.csv",
        [
            ["number", "phone", "sku", "quantity", "ordered_at", "Сделка"],
            ["W-1", "+79990000001", "SKU-1", "1", "2026-11-02", "DL-1"],
            ["W-2", "+79990000002", "SKU-1", "1", "2026-11-02", "DL-1"],  # C2 is not DL-1's client
            ["W-3", "+79990000001", "SKU-1", "1", "2026-11-02", "DL-404"],
        ],
    )
    run = bulk_import(path, "orders", mode=ImportMode.PER_ROW)
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (3, "deal", "no deal of this client has this external id"),
        (4, "deal", "no deal of this client has this external id"),
    ]
    with unit_of_work(engine, write=False) as session:
        order = session.scalars(select(Order)).one()
        deal = session.scalars(select(Deal)).one()
    # revenue of W-1 is attributed through the deal (its channel, campaign, pipeline)
    assert (order.number, order.deal_id) == ("W-1", deal.id)
