"""Importing clients: modes, dry run, duplicates, batch sizes, encodings, mapping.

RELIABILITY 79 (atomic), 80 (per row), 81 (dry run), 82 (re-import), 83 (batch sizes).
"""

from __future__ import annotations

import pytest

from tests.fixtures import email_of
from tests.transfer import snapshots
from tests.transfer.conftest import run_import
from tests.transfer.files import member_text, replace_member, write_csv, write_xlsx
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.audit.models import AuditEvent
from voronka.client.models import Client
from voronka.db.session import session_factory, unit_of_work
from voronka.transfer import importer
from voronka.transfer.errors import FileLimitExceeded
from voronka.transfer.mapping import Entity
from voronka.transfer.options import ImportOptions
from voronka.transfer.reading import FileFormat, ReadLimits

HEADER = ["Имя", "Телефон", "Email", "Теги", "Ответственный"]
GOOD = [
    ["Анна Ёлкина", "8 (999) 111-11-11", "anna@example.ru", "vip, опт", email_of("M1")],
    ["Борис", "+7 999 222-22-22", "", "", email_of("M2")],
    ["ООО «Ромашка»", "", "info@romashka.example", "опт", ""],
    ["Вера", "89993333333", "Vera@Example.RU", "", email_of("M1")],
]
BAD = ["Неправильный", "12345", "", "", ""]
BAD_ERROR = {
    "column": "Телефон",
    "field": "phone",
    "value": "12345",
    "message": "not a possible phone number (wrong number of digits)",
}
SEEDED = ["Client C1", "Client C2", "Client C3"]


def names(engine) -> list[str]:
    return [row[0] for row in snapshots.clients(engine)]


def with_bad_row_at(position: int) -> list[list[str]]:
    rows = [list(r) for r in GOOD]
    rows.insert(position, BAD)
    return [HEADER, *rows]


@pytest.mark.parametrize("position", [0, 2, 4], ids=["first", "middle", "last"])
def test_atomic_import_with_a_bad_row_writes_nothing(import_file, engine, tmp_path, position):
    path = write_csv(tmp_path / "clients.csv", with_bad_row_at(position))
    before = snapshots.clients(engine)
    report = import_file(path, mode="atomic")
    assert (report.total, report.failed, report.committed) == (5, 1, False)
    assert [e.model_dump() for e in report.errors] == [{"row": position + 2, **BAD_ERROR}]
    assert snapshots.clients(engine) == before
    assert snapshots.count(engine, Client) == 3


def test_atomic_import_lists_every_bad_row(import_file, engine, tmp_path):
    rows = [
        HEADER,
        ["", "+79994444444", "", "", ""],
        GOOD[0],
        ["Вика", "", "not-an-email", "", "nobody@example.ru"],
    ]
    report = import_file(write_csv(tmp_path / "c.csv", rows), mode="atomic")
    assert report.failed == 2
    assert [(e.row, e.column, e.field, e.value) for e in report.errors] == [
        (2, "Имя", "name", None),
        (4, "Email", "email", "not-an-email"),
        (4, "Ответственный", "owner", "nobody@example.ru"),
    ]
    assert report.errors[0].message == "required"
    assert report.errors[2].message == "no active user with this e-mail"
    assert names(engine) == SEEDED


def test_atomic_import_of_good_rows_writes_them_all(import_file, engine, tmp_path):
    report = import_file(write_csv(tmp_path / "c.csv", [HEADER, *GOOD]), mode="atomic")
    assert (report.created, report.failed, report.committed) == (4, 0, True)
    assert snapshots.clients(engine) == sorted(
        [
            *[row for row in snapshots.clients(engine) if row[0] in SEEDED],
            (
                "Анна Ёлкина",
                "person",
                (("email", "anna@example.ru", True), ("phone", "+79991111111", True)),
                ("vip", "опт"),
                email_of("M1"),
                None,
                1,
            ),
            ("Борис", "person", (("phone", "+79992222222", True),), (), email_of("M2"), None, 1),
            (
                "ООО «Ромашка»",
                "person",
                (("email", "info@romashka.example", True),),
                ("опт",),
                None,
                None,
                1,
            ),
            (
                "Вера",
                "person",
                (("email", "vera@example.ru", True), ("phone", "+79993333333", True)),
                (),
                email_of("M1"),
                None,
                1,
            ),
        ]
    )


@pytest.mark.parametrize("position", [0, 2, 4], ids=["first", "middle", "last"])
def test_per_row_import_writes_good_rows_exactly_once(import_file, engine, tmp_path, position):
    path = write_csv(tmp_path / "clients.csv", with_bad_row_at(position))
    report = import_file(path, mode="per-row")
    assert (report.total, report.created, report.failed, report.committed) == (5, 4, 1, True)
    assert report.created + report.updated + report.unchanged + report.skipped + report.failed == 5
    assert [e.model_dump() for e in report.errors] == [{"row": position + 2, **BAD_ERROR}]
    assert sorted(names(engine)) == sorted([*SEEDED, *(row[0] for row in GOOD)])


def test_dry_run_reports_what_a_real_run_does_and_writes_nothing(import_file, engine, tmp_path):
    path = write_csv(tmp_path / "clients.csv", with_bad_row_at(2))
    before = snapshots.clients(engine)
    dry = import_file(path, mode="per-row", dry_run=True)
    assert snapshots.clients(engine) == before
    assert snapshots.audit_events(engine, "import") == []
    real = import_file(path, mode="per-row")
    assert (dry.dry_run, dry.committed, real.committed) == (True, False, True)
    ignore = {"dry_run", "committed"}
    assert dry.model_dump(exclude=ignore) == real.model_dump(exclude=ignore)
    assert real.created == 4


def test_dry_run_of_an_atomic_import_gives_the_same_refusal(import_file, engine, tmp_path):
    path = write_csv(tmp_path / "clients.csv", with_bad_row_at(0))
    dry = import_file(path, mode="atomic", dry_run=True)
    real = import_file(path, mode="atomic")
    assert dry.model_dump(exclude={"dry_run"}) == real.model_dump(exclude={"dry_run"})
    assert names(engine) == SEEDED


def test_dry_run_keeps_earlier_changes_and_forgets_its_own(engine, people, tmp_path):
    """RELIABILITY 81: an unflushed change made before the dry run survives it; the session
    holds no object or value the dry run created or changed."""
    path = write_csv(
        tmp_path / "c.csv",
        [HEADER, GOOD[0], ["Client C2 renamed", "+79990000002", "c2@example.ru", "", ""]],
    )
    with unit_of_work(engine) as session:
        c1 = session.get_one(Client, people.clients["C1"])
        c2 = session.get_one(Client, people.clients["C2"])
        c1.name = "Changed before the import"
        report = run_import(session, path, mode="per-row", on_duplicate="update", dry_run=True)
        assert (report.created, report.updated) == (1, 1)
        assert not session.new and not session.dirty
        assert c1.name == "Changed before the import"
        assert c2.name == "Client C2"
        assert [c.value for c in c2.contacts] == ["+79990000002"]
        in_session = {o.name for o in session.identity_map.values() if isinstance(o, Client)}
        assert "Анна Ёлкина" not in in_session
        assert not [o for o in session.identity_map.values() if isinstance(o, AuditEvent)]
    assert names(engine) == ["Changed before the import", "Client C2", "Client C3"]


def test_reimporting_the_same_file_creates_no_duplicates(import_file, engine, tmp_path):
    path = write_csv(tmp_path / "clients.csv", [HEADER, *GOOD])
    first = import_file(path)
    after_first = snapshots.clients(engine)
    second = import_file(path)
    assert (first.created, second.created, second.skipped) == (4, 0, 4)
    assert snapshots.clients(engine) == after_first


def test_duplicates_inside_one_file_are_found(import_file, engine, tmp_path):
    rows = [HEADER, GOOD[0], ["Анна (дубль)", "+7 999 111 11 11", "", "", ""]]
    report = import_file(write_csv(tmp_path / "c.csv", rows))
    assert (report.created, report.skipped) == (1, 1)
    created = import_file(write_csv(tmp_path / "d.csv", rows), on_duplicate="create")
    assert created.created == 2
    assert names(engine).count("Анна (дубль)") == 1


def test_update_fills_given_fields_and_adds_contacts_and_tags(
    import_file, engine, people, tmp_path
):
    rows = [
        ["Телефон", "Имя", "Email", "Теги", "Должность"],
        ["+7 999 000-00-01", "Client C1 (updated)", "c1@example.ru", "VIP", ""],
        ["+7 999 000-00-02", "", "", "", ""],
    ]
    report = import_file(write_csv(tmp_path / "c.csv", rows), on_duplicate="update")
    assert (report.updated, report.unchanged, report.failed) == (1, 1, 0)
    stored = {row[0]: row for row in snapshots.clients(engine)}
    assert stored["Client C1 (updated)"][2:4] == (
        (("email", "c1@example.ru", True), ("phone", "+79990000001", True)),
        ("vip",),
    )
    assert stored["Client C1 (updated)"][6] > 1  # changed (versions count flushes, not rows)
    assert stored["Client C2"][6] == 1  # nothing to change: not touched
    more = [["Телефон", "Email", "Теги"], ["+79990000001", "c1.second@example.ru", "new, vip"]]
    again = import_file(write_csv(tmp_path / "more.csv", more), on_duplicate="update")
    assert (again.updated, again.failed) == (1, 0), again.errors
    stored = {row[0]: row for row in snapshots.clients(engine)}
    assert stored["Client C1 (updated)"][2:4] == (
        (
            ("email", "c1.second@example.ru", False),
            ("email", "c1@example.ru", True),
            ("phone", "+79990000001", True),
        ),
        ("new", "vip"),
    )


def test_update_refuses_a_row_matching_two_clients(import_file, engine, tmp_path):
    rows = [["Имя", "Телефон"], ["Ambiguous", "+79990000001, +79990000002"]]
    report = import_file(write_csv(tmp_path / "c.csv", rows), on_duplicate="update")
    assert report.failed == 1
    assert "matches several clients" in report.errors[0].message
    assert names(engine) == SEEDED


def test_batch_size_does_not_change_the_result(engine, people, tmp_path):
    """RELIABILITY 83: batch sizes 1, 7 and 1000 give the same report and the same database.

    The file repeats phones across batch boundaries, links people to a company created in
    the same file, and has bad rows; each size runs in a transaction that is rolled back.
    """
    rows = [["Имя", "Тип", "Телефон", "Компания", "Ответственный"]]
    rows.append(["Ромашка", "компания", "+79995550000", "", email_of("M1")])
    for index in range(20):  # row number = index + 3
        phone = f"+7999555{index % 12:04d}"  # indexes 12… repeat the phones of 0…
        company = "Ромашка" if index % 3 == 0 else ""
        owner = "ghost@example.ru" if index % 5 == 0 else email_of("M1")
        rows.append([f"Клиент {index}", "", phone, company, owner])
    path = write_csv(tmp_path / "c.csv", rows)
    results = []
    for batch_size in (1, 7, 1000):
        with session_factory(engine)() as session:
            report = run_import(session, path, mode="per-row", batch_size=batch_size)
            results.append((report.model_dump(), snapshots.clients_in(session)))
            session.rollback()
    assert results[0] == results[1] == results[2]
    report, stored = results[0]
    # index 5 failed, so index 17 (same phone) is new; 12…19 otherwise repeat stored phones
    assert (report["created"], report["skipped"], report["failed"]) == (11, 6, 4)
    assert [e["row"] for e in report["errors"]] == [3, 8, 13, 18]
    linked = sorted(row[0] for row in stored if row[5] == "Ромашка")
    assert linked == ["Клиент 3", "Клиент 6", "Клиент 9"]
    assert len(stored) == 3 + 11


def test_cp1251_semicolon_file_with_russian_headers(import_file, engine, tmp_path):
    rows = [["ФИО", "Телефон", "Почта", "Метки"], ["Жанна Щукина", "8-999-777-77-77", "", "ёж"]]
    path = write_csv(tmp_path / "excel.csv", rows, delimiter=";", encoding="cp1251")
    report = import_file(path)
    assert (report.created, report.columns) == (
        1,
        {"ФИО": "name", "Телефон": "phone", "Почта": "email", "Метки": "tags"},
    )
    assert "Жанна Щукина" in names(engine)


def test_xlsx_import_with_numbers_and_unknown_columns(import_file, engine, tmp_path):
    rows = [["Name", "Phone", "Shoe size"], ["Numeric Phone", 79991112233, 42]]
    report = import_file(write_xlsx(tmp_path / "c.xlsx", rows))
    assert (report.created, report.unknown_columns) == (1, ["Shoe size"])
    stored = {row[0]: row for row in snapshots.clients(engine)}
    assert stored["Numeric Phone"][2] == (("phone", "+79991112233", True),)


def test_explicit_mapping_and_default_owner(import_file, engine, tmp_path):
    rows = [["Контрагент", "Мобила"], ["Гоша", "+79998887766"]]
    report = import_file(
        write_csv(tmp_path / "c.csv", rows),
        mapping={"Контрагент": "name", "Мобила": "phone"},
        default_owner_email=email_of("M2"),
    )
    assert report.created == 1
    stored = {row[0]: row for row in snapshots.clients(engine)}
    assert stored["Гоша"][4] == email_of("M2")


def test_values_beyond_the_named_columns_fail_the_row(import_file, engine, tmp_path):
    rows = [["Имя"], ["Лишнее", "surprise"]]
    report = import_file(write_csv(tmp_path / "c.csv", rows), mode="per-row")
    assert [(e.row, e.message) for e in report.errors] == [
        (2, "the row has values to the right of the last named column")
    ]


def test_every_import_is_audited_without_values(import_file, engine, tmp_path):
    import_file(write_csv(tmp_path / "c.csv", with_bad_row_at(1)), mode="per-row")
    (event,) = snapshots.audit_events(engine, "import")
    assert (event.entity, event.row_count, event.actor_kind) == ("client", 5, "system")
    assert event.detail == {
        "format": "csv",
        "mode": "per-row",
        "on_duplicate": "skip",
        "committed": True,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "failed": 1,
    }


def test_a_limit_found_late_writes_nothing_even_per_row(engine, people, tmp_path):
    """An XLSX that understates its size passes the first check; when the limit is hit
    half-way, the rows already written are rolled back with the rest."""
    rows = [["Имя", "Телефон"]] + [[f"Поздний {i}", f"+7999777{i:04d}"] for i in range(12)]
    path = write_xlsx(tmp_path / "liar.xlsx", rows)
    sheet = member_text(path, "xl/worksheets/sheet1.xml")
    replace_member(
        path, "xl/worksheets/sheet1.xml", sheet.replace('ref="A1:B13"', 'ref="A1:B2"').encode()
    )
    with unit_of_work(engine) as session:
        with pytest.raises(FileLimitExceeded):
            importer.import_file(
                session,
                actor=Actor.system(),
                scope=Scope.ALL,
                entity=Entity.CLIENTS,
                path=path,
                file_format=FileFormat.XLSX,
                options=ImportOptions(mode="per-row", batch_size=2),
                limits=ReadLimits(max_rows=10),
            )
        assert not session.new
    assert names(engine) == SEEDED
