"""Importing deals: the client by phone, e-mail or id; pipeline and stage by name; history."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.fixtures import email_of
from tests.pipeline.sample import START
from tests.transfer import snapshots
from tests.transfer.files import write_csv, write_xlsx
from voronka.deal.models import Deal

HEADER = ["Название", "Телефон", "Воронка", "Этап", "Сумма", "Валюта", "Дата создания"]
MOSCOW_10AM = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def test_deals_are_created_with_their_first_stage_change(
    import_file, engine, sales, frozen, tmp_path
):
    rows = [
        HEADER,
        ["Окна", "8 999 000-00-01", "sales", "Qualified", "1 500,50", "rub", "02.03.2026 10:00"],
        ["Двери", "+79990000002", "", "", "200", "", ""],
    ]
    report = import_file(write_csv(tmp_path / "d.csv", rows), "deals")
    assert (report.created, report.failed) == (2, 0), report.errors
    assert snapshots.deals(engine) == [
        (
            "Двери",
            "Client C2",
            "New",
            "open",
            Decimal("200.00"),
            "RUB",
            email_of("M2"),  # the client's owner by default
            START,
            None,
            ((None, "New", START),),
            1,
        ),
        (
            "Окна",
            "Client C1",
            "Qualified",
            "open",
            Decimal("1500.50"),
            "RUB",
            email_of("M1"),
            MOSCOW_10AM,  # no offset in the file: the company's time zone
            None,
            ((None, "Qualified", MOSCOW_10AM),),
            1,
        ),
    ]


def test_closed_stages_and_other_ways_to_name_the_client(
    import_file, engine, people, sales, frozen, tmp_path
):
    import_file(
        write_csv(tmp_path / "c.csv", [["Телефон", "Email"], ["+79990000001", "c1@example.ru"]]),
        on_duplicate="update",
    )
    rows = [
        ["title", "email", "client_id", "stage", "amount", "lost_reason", "owner"],
        ["Won by e-mail", "C1@Example.ru", "", "Won", "10", "", email_of("M2")],
        ["Lost by id", "", str(people.clients["C3"]), "Lost", "5", "too expensive", ""],
    ]
    report = import_file(write_csv(tmp_path / "d.csv", rows), "deals")
    assert (report.created, report.failed) == (2, 0), report.errors
    stored = {row[0]: row for row in snapshots.deals(engine)}
    assert stored["Won by e-mail"][1:4] == ("Client C1", "Won", "won")
    assert stored["Won by e-mail"][6] == email_of("M2")
    assert stored["Won by e-mail"][8] == START  # closed when created
    assert stored["Lost by id"][1:4] == ("Client C3", "Lost", "lost")


def test_bad_deal_rows_name_the_column_and_the_reason(import_file, engine, sales, tmp_path):
    rows = [
        ["Название", "Телефон", "Этап", "Сумма", "Валюта"],
        ["Unknown stage", "+79990000001", "Переговоры", "1", "RUB"],
        ["Nobody's phone", "+79995554433", "", "1", "RUB"],
        ["Negative", "+79990000001", "", "-5", "RUB"],
        ["Bad currency", "+79990000001", "", "1", "рубли"],
        ["Too precise", "+79990000001", "", "1.005", "RUB"],
        ["Lost, no reason", "+79990000001", "Lost", "1", "RUB"],
        ["", "+79990000001", "", "1", "RUB"],
    ]
    report = import_file(write_csv(tmp_path / "d.csv", rows), "deals", mode="per-row")
    assert (report.created, report.failed) == (0, 7)
    assert [(e.row, e.field, e.value, e.message) for e in report.errors] == [
        (2, "stage", "Переговоры", "pipeline 'Sales' has no stage with this name"),
        (3, "phone", "+79995554433", "no client with this phone visible to you"),
        (4, "amount", "-5", "Input should be greater than or equal to 0"),
        (5, "currency", "рубли", "currency must be a three-letter ISO code such as RUB"),
        (6, "amount", "1.005", "at most two decimal places"),
        (7, "lost_reason", None, "required when the deal goes into a lost stage"),
        (8, "title", None, "required"),
    ]
    assert snapshots.count(engine, Deal) == 0


def test_reimport_skips_and_update_changes_amount_and_moves_the_stage(
    import_file, engine, sales, frozen, tmp_path
):
    rows = [HEADER, ["Окна", "+79990000001", "", "New", "100", "", "01.03.2026"]]
    path = write_csv(tmp_path / "d.csv", rows)
    assert import_file(path, "deals").created == 1
    again = import_file(path, "deals")
    assert (again.created, again.skipped) == (0, 1)
    moved = [HEADER, ["окна", "+79990000001", "", "Proposal", "250", "", "01.03.2026"]]
    report = import_file(write_csv(tmp_path / "m.csv", moved), "deals", on_duplicate="update")
    assert (report.updated, report.failed) == (1, 0), report.errors
    (deal,) = snapshots.deals(engine)
    march_1 = datetime(2026, 2, 28, 21, 0, tzinfo=UTC)
    assert deal[2:5] == ("Proposal", "open", Decimal("250.00"))
    assert deal[9] == ((None, "New", march_1), ("New", "Proposal", START))
    unchanged = import_file(write_csv(tmp_path / "u.csv", moved), "deals", on_duplicate="update")
    assert (unchanged.unchanged, unchanged.updated) == (1, 0)


def test_deals_from_xlsx_with_real_dates_and_numbers(import_file, engine, sales, frozen, tmp_path):
    rows = [
        ["Title", "Phone", "Amount", "Created"],
        ["From Excel", 79990000002, 1234.5, datetime(2026, 3, 2, 10, 0)],
    ]
    report = import_file(write_xlsx(tmp_path / "d.xlsx", rows), "deals")
    assert report.created == 1, report.errors
    (deal,) = snapshots.deals(engine)
    assert (deal[1], deal[4], deal[7]) == ("Client C2", Decimal("1234.50"), MOSCOW_10AM)
