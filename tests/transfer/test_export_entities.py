"""Exports of every entity: hand-computed rows, record scope, filters and their errors,
spreadsheet safety and the audit of each export. Every test runs on SQLite and PostgreSQL.

Expected values come from tests/transfer/export_world.py (stored there by hand); times are
shown in the workspace's zone, Europe/Moscow (UTC+3).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest

from tests.transfer import export_world, snapshots
from tests.transfer.files import read_xlsx, xlsx_types
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.db.session import unit_of_work
from voronka.errors import Forbidden, InvalidInput
from voronka.transfer import exporter
from voronka.transfer.exporter import ExportEntity, ExportFilter
from voronka.transfer.reading import FileFormat

E = ExportEntity
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def world(engine, people, sales):
    return export_world.build(engine, people, sales)


def export_bytes(engine, entity, file_format, actor=None, scope=Scope.ALL, **filters) -> bytes:
    target = io.BytesIO()
    with unit_of_work(engine, write=False) as session:
        exporter.write(
            session,
            actor=actor or Actor.system(),
            scope=scope,
            entity=entity,
            file_format=file_format,
            target=target,
            export_filter=ExportFilter(**filters),
        )
    return target.getvalue()


def export_csv(engine, entity, actor=None, scope=Scope.ALL, **filters) -> list[dict[str, str]]:
    raw = export_bytes(engine, entity, FileFormat.CSV, actor, scope, **filters)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def column(rows, name):
    return [row[name] for row in rows]


def test_orders_are_one_row_per_line_with_exact_money(engine, world):
    rows = export_csv(engine, E.ORDERS)
    # O-1: 2 × 1 990.50 = 3 981.00 and 3 × 0.10 = 0.30 (total 3 981.30); O-2: 1 × 1 990.50
    assert [
        (r["number"], r["sku"], r["quantity"], r["unit_price"], r["line_total"]) for r in rows
    ] == [
        ("O-1", "A-1", "2", "1990.50", "3981.00"),
        ("O-1", "B-2", "3", "0.10", "0.30"),
        ("O-2", "A-1", "1", "1990.50", "1990.50"),
    ]
    first = rows[0]
    assert {k: first[k] for k in ("status", "ordered_at", "paid_at", "status_at", "phone")} == {
        "status": "paid",
        "ordered_at": "2026-03-02T12:00:00+03:00",
        "paid_at": "2026-03-10T18:30:00+03:00",
        "status_at": "2026-03-10T18:30:00+03:00",  # the last status change (paid at T1)
        "phone": "'+79990000001",  # the primary phone, neutralised (+ starts a formula)
    }
    assert column(rows, "total") == ["3981.30", "3981.30", "1990.50"]
    assert rows[1]["product_name"] == "'" + export_world.FORMULA_NAME


def test_deals_carry_their_stage_history_and_stage_changes_export_alone(engine, world):
    deals = export_csv(engine, E.DEALS)
    assert [(d["external_id"], d["title"], d["status"], d["stage_history"]) for d in deals] == [
        (
            str(world.deal_c1),  # no external id stored: the deal's own id
            "Поставка",
            "open",
            "New 2026-03-02T12:00:00+03:00; Qualified 2026-03-10T18:30:00+03:00",
        ),
        (
            str(world.deal_c3),
            "'=SUM(A1)",
            "won",
            "New 2026-03-10T18:30:00+03:00; Won 2026-04-01T09:00:00.250000+03:00",
        ),
    ]
    assert "client_id" not in deals[0]  # the client goes by its contacts, not its id
    changes = export_csv(engine, E.DEAL_STAGES)
    assert [(c["deal_id"], c["from_stage"], c["to_stage"], c["changed_by"]) for c in changes] == [
        (str(world.deal_c1), "", "New", "m1@test.voronka.local"),
        (str(world.deal_c1), "New", "Qualified", "m1@test.voronka.local"),
        (str(world.deal_c3), "", "New", ""),
        (str(world.deal_c3), "New", "Won", "m3@test.voronka.local"),
    ]


def test_companies_come_with_their_contact_persons(engine, world):
    rows = export_csv(engine, E.COMPANIES)
    assert [(r["name"], r["kind"], r["company"]) for r in rows] == [
        ("Ромашка", "company", ""),
        ("Анна", "person", "Ромашка"),
    ]
    anna = rows[1]
    assert (anna["phone"], anna["email"], anna["tags"], anna["source"]) == (
        "'+79995550001",
        "anna@example.ru",
        "vip, опт",
        "yandex",
    )
    clients = export_csv(engine, E.CLIENTS)
    assert column(clients, "name")[0] == "Ромашка"  # companies first in the clients file too
    by_name = {r["name"]: r for r in clients}
    assert by_name["Client C1"]["phone"] == "'+79990000001, +79990000011"  # primary first


def test_activities_products_and_touchpoints(engine, world):
    activities = export_csv(engine, E.ACTIVITIES)
    assert activities[0] == {
        "kind": "call",
        "occurred_at": "2026-03-02T12:00:00+03:00",
        "phone": "'+79990000001",
        "email": "",
        "owner": "m1@test.voronka.local",
        "subject": "'+7 перезвонить",
        "body": "'@все: цена",
        "external_id": "call-1",
        "direction": "inbound",
        "call_status": "answered",
        "wait_seconds": "5",
        "talk_seconds": "125",
        "due_at": "",
    }
    assert activities[1]["body"] == "'-10% скидка"
    products = export_csv(engine, E.PRODUCTS)
    assert products[0] == {
        "sku": "A-1",
        "name": "Чайник",
        "group": "Кухня",
        "price": "1990.50",
        "cost_price": "1200.00",
        "currency": "RUB",
        "unit": "шт",
    }
    touchpoints = export_csv(engine, E.TOUCHPOINTS)
    assert [(t["kind"], t["visitor_id"], t["phone"], t["source"]) for t in touchpoints] == [
        ("visit", "v-1", "'+79990000001", "yandex"),
        ("ad_click", "'=v-2", "", ""),
    ]
    assert touchpoints[1]["occurred_at"] == "2026-04-01T09:00:00.250000+03:00"


def test_record_scope_of_a_head_of_sales_and_of_an_own_scope(engine, world, people):
    """H's team T1 holds M1 and M2: C1's records, never C3's (M3, team T2). M1 may not export
    by the policy; with an explicit "own" scope M1 gets exactly M1's records."""
    head = people.actor("H")

    def numbers(entity, actor, scope, name):
        return column(export_csv(engine, entity, actor, scope), name)

    assert numbers(E.ORDERS, head, exporter.scope_of(head, E.ORDERS), "number") == ["O-1", "O-1"]
    assert numbers(E.DEALS, head, Scope.TEAM, "title") == ["Поставка"]
    assert numbers(E.DEAL_STAGES, head, Scope.TEAM, "to_stage") == ["New", "Qualified"]
    assert numbers(E.ACTIVITIES, head, Scope.TEAM, "kind") == ["call"]
    assert numbers(E.TOUCHPOINTS, head, exporter.scope_of(head, E.TOUCHPOINTS), "visitor_id") == [
        "v-1"  # an unknown visitor's touchpoint is in the "all" scope only
    ]
    assert numbers(E.CLIENTS, head, Scope.TEAM, "name") == [
        "Ромашка",
        "Client C1",
        "Client C2",
        "Анна",
    ]
    manager = people.actor("M1")
    for entity in (E.CLIENTS, E.DEALS, E.ORDERS, E.ACTIVITIES, E.TOUCHPOINTS, E.PRODUCTS):
        with pytest.raises(Forbidden):
            exporter.scope_of(manager, entity)
    assert numbers(E.CLIENTS, manager, Scope.OWN, "name") == ["Ромашка", "Client C1", "Анна"]
    assert numbers(E.ORDERS, manager, Scope.OWN, "number") == ["O-1", "O-1"]
    assert numbers(E.DEALS, people.actor("M2"), Scope.OWN, "title") == []
    assert exporter.scope_of(people.actor("K"), E.TOUCHPOINTS) is Scope.ALL
    assert exporter.scope_of(people.actor("A"), E.PRODUCTS) is Scope.ALL


def test_filters(engine, world, people, sales):
    m3 = people.users["M3"]
    march_10 = datetime(2026, 3, 10)  # midnight in Moscow
    assert column(export_csv(engine, E.ORDERS, status="new"), "number") == ["O-2"]
    assert column(export_csv(engine, E.ORDERS, owner_id=m3), "number") == ["O-2"]
    assert column(export_csv(engine, E.ORDERS, date_to=march_10), "number") == ["O-1", "O-1"]
    assert column(export_csv(engine, E.DEALS, status="won"), "title") == ["'=SUM(A1)"]
    assert column(export_csv(engine, E.DEALS, pipeline_id=sales.id), "title") == [
        "Поставка",
        "'=SUM(A1)",
    ]
    stages = export_csv(engine, E.DEAL_STAGES, date_from=march_10, owner_id=m3)
    assert column(stages, "to_stage") == ["New", "Won"]  # changed_at ≥ 10 March, M3's deal
    assert column(export_csv(engine, E.ACTIVITIES, kind="note"), "subject") == ["Заметка"]
    assert column(export_csv(engine, E.TOUCHPOINTS, kind="visit"), "visitor_id") == ["v-1"]
    # the period's end is excluded: Анна was created at 18:30 on 10 March, Moscow time
    end = datetime.fromisoformat("2026-03-10T18:30:00+03:00")
    assert column(export_csv(engine, E.CLIENTS, date_from=march_10, date_to=end), "name") == []
    assert column(export_csv(engine, E.PRODUCTS, date_from=march_10), "sku") == ["B-2"]
    assert column(export_csv(engine, E.COMPANIES, date_to=march_10), "name") == [
        "Ромашка",
        "Анна",  # the company's date decides, its persons come along
    ]


@pytest.mark.parametrize(
    ("entity", "filters", "field", "message"),
    [
        (
            E.DEALS,
            {"status": "shipped"},
            "status",
            "status of deals must be one of lost, open, won",
        ),
        (E.ORDERS, {"pipeline_id": 1}, "pipeline_id", "orders cannot be filtered by pipeline_id"),
        (E.PRODUCTS, {"owner_id": 1}, "owner_id", "products cannot be filtered by owner_id"),
        (E.ACTIVITIES, {"kind": "visit"}, "kind", "kind of activities must be one of call,"),
        (E.TOUCHPOINTS, {"status": "new"}, "status", "touchpoints cannot be filtered by status"),
        (E.DEALS, {"pipeline_id": 999999}, "pipeline_id", "no pipeline with id 999999"),
        (E.CLIENTS, {"owner_id": 999999}, "owner_id", "no user with id 999999"),
        (
            E.CLIENTS,
            {"date_from": datetime(2026, 3, 2), "date_to": datetime(2026, 3, 1)},
            "date_to",
            "date_from must be before date_to",
        ),
    ],
)
def test_a_bad_filter_is_a_clear_error_and_writes_nothing(
    engine, world, entity, filters, field, message
):
    target = io.BytesIO()
    with unit_of_work(engine, write=False) as session, pytest.raises(InvalidInput) as caught:
        exporter.write(
            session,
            actor=Actor.system(),
            scope=Scope.ALL,
            entity=entity,
            file_format=FileFormat.CSV,
            target=target,
            export_filter=ExportFilter(**filters),
        )
    assert caught.value.message.startswith(message)
    assert [d.field for d in caught.value.details] == [field]
    assert target.getvalue() == b""


@pytest.mark.parametrize("file_format", list(FileFormat))
@pytest.mark.parametrize("entity", list(ExportEntity))
def test_no_cell_of_any_export_starts_a_formula(engine, world, entity, file_format, tmp_path):
    raw = export_bytes(engine, entity, file_format)
    if file_format is FileFormat.CSV:
        header, *data = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        assert data, entity
        cells = [cell for row in data for cell in row]
    else:
        path = tmp_path / "export.xlsx"
        path.write_bytes(raw)
        header, *data = read_xlsx(path)
        types = {t for row in xlsx_types(path) for t in row}
        assert types <= {"s", "n", "d"}  # never "f", a formula
        cells = [cell for row in data for cell in row if isinstance(cell, str)]
    assert header == list(exporter.spec_of(entity).columns)
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]


def test_xlsx_numbers_are_numbers_and_times_are_local_wall_clock(engine, world, tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(export_bytes(engine, E.ORDERS, FileFormat.XLSX))
    header, first, *_ = read_xlsx(path)
    types = xlsx_types(path)[1]
    for name in ("total", "quantity", "unit_price", "line_total"):
        assert types[header.index(name)] == "n", name
    row = dict(zip(header, first, strict=True))
    assert Decimal(repr(row["total"])) == Decimal("3981.30")
    assert row["ordered_at"] == datetime(2026, 3, 2, 12, 0)  # Moscow wall-clock time
    assert row["phone"] == "'+79990000001"


def test_every_export_is_audited_once_without_values(engine, world, people):
    head = people.actor("H")
    with unit_of_work(engine) as session:
        for entity in ExportEntity:
            exporter.record(
                session,
                actor=head,
                entity=entity,
                file_format=FileFormat.CSV,
                row_count=7,
                export_filter=ExportFilter(owner_id=people.users["M1"], status="paid")
                if entity is E.ORDERS
                else ExportFilter(),
            )
    events = snapshots.audit_events(engine, "export")
    assert [(e.entity, e.detail["export"], e.row_count) for e in events] == [
        ("client", "clients", 7),
        ("client", "companies", 7),
        ("deal", "deals", 7),
        ("deal", "deal-stages", 7),
        ("activity", "activities", 7),
        ("order", "orders", 7),
        ("product", "products", 7),
        ("touchpoint", "touchpoints", 7),
    ]
    orders = events[5]
    assert orders.detail == {
        "export": "orders",
        "format": "csv",
        "filter": {"owner_id": str(people.users["M1"]), "status": "paid"},
    }
