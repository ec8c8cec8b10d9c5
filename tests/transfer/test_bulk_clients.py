"""Bulk client import: stored like the API stores them, deduplicated in SQL, scoped, audited.

Expected values are written out by hand from the rows of each file.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.fixtures import email_of
from tests.transfer.files import write_csv, write_xlsx
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.audit.models import AuditEvent
from voronka.client import service as client_service
from voronka.client.models import Client, ClientKind, ContactKind, ContactPoint
from voronka.client.schemas import ClientCreate, ContactIn
from voronka.db.session import unit_of_work
from voronka.transfer.bulk.clients import HIDDEN, OWNER_REFUSED
from voronka.transfer.models import RunStatus
from voronka.transfer.options import ImportMode, OnDuplicate


def stored(engine, *, skip_ids=()):
    """(name, kind, company name, sorted contacts, tags, search_text) of every client."""
    with unit_of_work(engine, write=False) as session:
        clients = session.scalars(select(Client).order_by(Client.name)).all()
        names = {c.id: c.name for c in clients}
        return [
            (
                c.name,
                c.kind.value,
                names.get(c.company_id),
                sorted((p.kind.value, p.value, p.is_primary) for p in c.contacts),
                [t.tag for t in c.tags],
                c.search_text,
            )
            for c in clients
            if c.id not in skip_ids
        ]


def test_new_clients_are_stored_as_the_service_stores_them(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "c.csv", [
        ["ФИО", "Телефон", "E-mail", "Теги", "Тип"],
        ["Анна Петрова", "8 (999) 111-22-33, +7 999 111 22 34", "Anna@Example.RU", "VIP; Опт", ""],
    ], delimiter=";")
    run = bulk_import(path)
    assert (run.status, run.total, run.created, run.duplicates, run.failed) == (
        RunStatus.DONE, 1, 1, 0, 0)
    # the same client through the service, in a transaction that is rolled back
    with unit_of_work(engine) as session:
        expected = client_service.create(
            session, actor=Actor.system(), scope=Scope.ALL, allow_duplicate=True,
            data=ClientCreate(name="Анна Петрова", kind=ClientKind.PERSON, tags=["VIP", "Опт"],
                              contacts=[ContactIn(kind=ContactKind.PHONE, value="+79991112233",
                                                  is_primary=True),
                                        ContactIn(kind=ContactKind.PHONE, value="+79991112234"),
                                        ContactIn(kind=ContactKind.EMAIL, value="anna@example.ru",
                                                  is_primary=True)]),
        )
        want = (expected.search_text, sorted(
            (p.kind.value, p.value, p.is_primary) for p in expected.contacts),
            [t.tag for t in expected.tags], expected.owner_id)
        session.rollback()
    with unit_of_work(engine, write=False) as session:
        client = session.scalars(select(Client).where(Client.name == "Анна Петрова")).one()
        got = (client.search_text, sorted(
            (p.kind.value, p.value, p.is_primary) for p in client.contacts),
            [t.tag for t in client.tags], client.owner_id)
        assert client.version == 1 and client.kind is ClientKind.PERSON
    assert got == want
    assert got[1] == [("email", "anna@example.ru", True), ("phone", "+79991112233", True),
                      ("phone", "+79991112234", False)]


def test_duplicates_of_stored_clients_and_of_earlier_rows_are_skipped(
    engine, people, bulk_import, tmp_path
):
    path = write_csv(tmp_path / "c.csv", [
        ["name", "phone", "email"],
        ["Same as C1", "8 999 000-00-01", ""],          # C1 holds +79990000001
        ["Новая", "+7 999 555 00 01", ""],
        ["Новая снова", "89995550001", ""],            # duplicate of row 3
        ["По почте", "", "A@B.RU"],
        ["По почте 2", "", "a@b.ru"],                  # duplicate of row 5
    ])
    run = bulk_import(path)
    # rows 3 and 5 are new; 2 matches C1; 4 and 6 repeat rows 3 and 5
    assert (run.total, run.created, run.duplicates, run.failed) == (5, 2, 3, 0)
    sample = run.options["sample"]
    assert sample[0] == {"row": 2, "outcome": "duplicate", "client_id": people.clients["C1"]}
    assert sample[2] == {"row": 4, "outcome": "duplicate", "of_row": 3}
    assert sorted(n for n, *_ in stored(engine)) == [
        "Client C1", "Client C2", "Client C3", "Новая", "По почте"]
    again = bulk_import(path)
    assert (again.created, again.duplicates) == (0, 5)
    created = bulk_import(path, on_duplicate=OnDuplicate.CREATE)
    assert (created.created, created.duplicates) == (5, 0)


def test_a_duplicate_outside_the_importers_scope_is_an_error_naming_no_one(
    engine, people, bulk_import, tmp_path
):
    path = write_csv(tmp_path / "c.csv", [
        ["name", "phone"],
        ["Чужой", "+79990000003"],   # C3 belongs to M3 of the other team
        ["Свой", "+79990000001"],    # C1 belongs to M1 of H's team
    ])
    run = bulk_import(path, who="H", mode=ImportMode.PER_ROW)
    assert (run.created, run.duplicates, run.failed) == (0, 1, 1)
    assert run.errors == [{"row": 2, "column": "phone", "field": "phone", "value": None,
                           "message": HIDDEN}]
    assert "Client C3" in [n for n, *_ in stored(engine)]


def test_owner_must_be_in_the_importers_scope(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "c.csv", [
        ["name", "owner"],
        ["Для M1", email_of("M1")],
        ["Для M3", email_of("M3")],
        ["Для никого", "nobody@example.com"],
    ])
    run = bulk_import(path, who="H", mode=ImportMode.PER_ROW)
    assert (run.created, run.failed) == (1, 2)
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (3, "owner", OWNER_REFUSED),
        (4, "owner", "no active user with this e-mail"),
    ]
    with unit_of_work(engine, write=False) as session:
        owner = session.scalar(select(Client.owner_id).where(Client.name == "Для M1"))
    assert owner == people.users["M1"]


def test_rows_without_an_owner_belong_to_the_importer(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["name"], ["Моя"]])
    bulk_import(path, who="H")
    with unit_of_work(engine, write=False) as session:
        client = session.scalars(select(Client).where(Client.name == "Моя")).one()
    assert (client.owner_id, client.created_by_id) == (people.users["H"], people.users["H"])


def test_a_company_named_by_a_later_row_of_the_same_batch_is_found(
    engine, people, bulk_import, tmp_path
):
    path = write_xlsx(tmp_path / "c.xlsx", [
        ["name", "kind", "company", "job_title"],
        ["Иван", "person", "ООО Ромашка", "закупщик"],
        ["ООО Ромашка", "company", "", ""],
    ])
    run = bulk_import(path)
    assert (run.created, run.failed) == (2, 0)
    rows = {name: (kind, company) for name, kind, company, *_ in stored(engine)}
    assert rows["Иван"] == ("person", "ООО Ромашка")
    assert rows["ООО Ромашка"] == ("company", None)


BAD_ROWS = [
    (["", "+79991230001", ""], "name", "required"),
    (["x" * 301, "+79991230001", ""], "name", "at most 300 characters"),
    (["Робот", "+79991230001", "robot"], "kind", "kind must be person or company"),
    (["Без номера", "12", ""], "phone", "not a possible phone number (wrong number of digits)"),
]


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_atomic_import_with_one_bad_row_writes_nothing(
    engine, people, bulk_import, tmp_path, position
):
    good = [[f"Хороший {i}", f"+7999123{i:04d}", "person"] for i in range(4)]
    bad = ["Плохой", "not a phone", "person"]
    index = {"first": 0, "middle": 2, "last": 4}[position]
    rows = [*good[:index], bad, *good[index:]]
    path = write_csv(tmp_path / "c.csv", [["name", "phone", "kind"], *rows])
    before = stored(engine)
    run = bulk_import(path, mode=ImportMode.ATOMIC, batch_size=2)
    assert (run.status, run.failed, run.created) == (RunStatus.REFUSED, 1, 4)
    assert [(e["row"], e["column"], e["value"]) for e in run.errors] == [
        (index + 2, "phone", "not a phone")]
    assert stored(engine) == before


def test_per_row_import_writes_good_rows_once_and_reports_bad_ones(
    engine, people, bulk_import, tmp_path
):
    rows = [[name, phone, kind] for (name, phone, kind), _, _ in BAD_ROWS]
    rows.insert(2, ["Хорошая", "+79991239999", "company"])
    path = write_csv(tmp_path / "c.csv", [["name", "phone", "kind"], *rows])
    run = bulk_import(path, mode=ImportMode.PER_ROW, batch_size=2)
    assert (run.status, run.total, run.created, run.duplicates, run.failed) == (
        RunStatus.DONE, 5, 1, 0, 4)
    assert run.created + run.duplicates + run.failed == run.total
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (2, "name", "required"),
        (3, "name", "at most 300 characters"),
        (5, "kind", "kind must be person or company"),
        (6, "phone", "not a possible phone number (wrong number of digits)"),
    ]
    assert [n for n, *_ in stored(engine)].count("Хорошая") == 1


def test_dry_run_reports_what_a_real_run_does_and_writes_nothing(
    engine, people, bulk_import, tmp_path
):
    path = write_csv(tmp_path / "c.csv", [
        ["name", "phone"], ["Один", "+79990000001"], ["Два", "+79995550002"], ["", "12"]])
    before = stored(engine)
    dry = bulk_import(path, mode=ImportMode.PER_ROW, dry_run=True)
    assert stored(engine) == before
    real = bulk_import(path, mode=ImportMode.PER_ROW)
    counts = ("total", "created", "duplicates", "failed", "errors")
    assert [getattr(dry, c) for c in counts] == [getattr(real, c) for c in counts]
    assert (dry.total, dry.created, dry.duplicates, dry.failed) == (3, 1, 1, 1)
    assert dry.options["sample"] == [
        {"row": 2, "outcome": "duplicate", "client_id": people.clients["C1"]},
        {"row": 3, "outcome": "create"},
        {"row": 4, "outcome": "error"},
    ]


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_the_result_does_not_depend_on_the_batch_size(
    engine, people, bulk_import, tmp_path, batch_size
):
    rows = [[f"Клиент {i % 9}", f"+7999777{i % 9:04d}", "t1, T2"] for i in range(20)]
    rows += [["Фирма", "", ""], ["Сотрудник", "", ""]]
    path = write_csv(tmp_path / "c.csv", [["name", "phone", "tags"], *rows])
    run = bulk_import(path, batch_size=batch_size)
    # 9 distinct phones among the first 20 rows, then 2 rows without contacts
    assert (run.created, run.duplicates, run.failed) == (11, 11, 0)
    assert stored(engine)[3:6] == [
        ("Клиент 0", "person", None, [("phone", "+79997770000", True)], ["t1", "t2"],
         "клиент 0 +79997770000 t1 t2"),
        ("Клиент 1", "person", None, [("phone", "+79997770001", True)], ["t1", "t2"],
         "клиент 1 +79997770001 t1 t2"),
        ("Клиент 2", "person", None, [("phone", "+79997770002", True)], ["t1", "t2"],
         "клиент 2 +79997770002 t1 t2"),
    ]


def test_one_audit_event_with_counts_and_no_values(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "c.csv", [
        ["name", "phone"], ["Секретный", "+79994440001"], ["Дубль", "+79990000001"]])
    run = bulk_import(path, who="X")
    with unit_of_work(engine, write=False) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
        per_client = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "create")).all()
    assert len(events) == 1 and per_client == []
    event = events[0]
    assert (event.entity, event.row_count, event.actor_id) == ("client", 2, people.users["X"])
    assert event.detail == {"run_id": run.id, "format": "csv", "mode": "atomic", "status": "done",
                            "created": 1, "updated": 0, "duplicates": 1, "failed": 0}
    assert "Секретный" not in str(event.detail) and "4440001" not in str(event.detail)


def test_contact_points_are_unique_per_client_and_kind(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["name", "phone"], ["Двойной", "89991112200; +79991112200"]])
    bulk_import(path)
    with unit_of_work(engine, write=False) as session:
        values = session.scalars(
            select(ContactPoint.value).join(Client).where(Client.name == "Двойной")).all()
    assert values == ["+79991112200"]


def test_encodings_missing_columns_and_broken_files(engine, people, bulk_import, tmp_path):
    from voronka.transfer.errors import MappingProblem, UnreadableFile

    cp1251 = write_csv(tmp_path / "ru.csv", [["ФИО", "Телефон"], ["Ёжиков", "+79993330001"]],
                       delimiter=";", encoding="cp1251")
    utf16 = write_csv(tmp_path / "u16.csv", [["name"], ["Юникод"]], encoding="utf-16")
    assert bulk_import(cp1251).created == 1 and bulk_import(utf16).created == 1
    assert {"Ёжиков", "Юникод"} <= {n for n, *_ in stored(engine)}
    no_name = write_csv(tmp_path / "nn.csv", [["phone"], ["+79993330002"]])
    with pytest.raises(MappingProblem, match="required field 'name'"):
        bulk_import(no_name)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"name\x00\xff\xfe")
    with pytest.raises(UnreadableFile):
        bulk_import(binary)
    huge = write_csv(tmp_path / "h.csv", [["name", "phone", "tags"],
                                          ["Огромный", "9" * 1000, "x" * 65]])
    run = bulk_import(huge, mode=ImportMode.PER_ROW)
    assert [(e["field"], e["value"][:3]) for e in run.errors] == [("tags", "xxx"),
                                                                  ("phone", "999")]
    with unit_of_work(engine, write=False) as session:
        from voronka.transfer.models import ImportRun

        failed = session.scalars(select(ImportRun).where(ImportRun.status == RunStatus.FAILED)
                                 .order_by(ImportRun.id)).all()
    assert [r.message[:40] for r in failed] == [
        "no column gives the required field 'name", "the file is binary, not CSV text"]
