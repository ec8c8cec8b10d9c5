"""Bulk activity import: linked to clients in the importer's scope, deduplicated by external
id or by kind, time, client and subject. Expected values are read off the rows by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.fixtures import email_of
from tests.transfer.files import write_csv
from voronka.activity.models import Activity, ActivityKind, CallStatus, Direction
from voronka.db.session import unit_of_work
from voronka.transfer.bulk.activities import NO_CLIENT
from voronka.transfer.options import ImportMode


def activities(engine):
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(Activity.kind, Activity.client_id, Activity.owner_id, Activity.occurred_at,
                   Activity.subject, Activity.direction, Activity.call_status,
                   Activity.talk_seconds, Activity.external_id).order_by(Activity.occurred_at)
        ).all()
    return [tuple(r) for r in rows]


def test_calls_and_notes_of_visible_clients(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "a.csv", [
        ["Тип", "Дата", "Телефон", "Тема", "Направление", "Статус звонка", "Разговор",
         "Внешний ID", "Ответственный"],
        ["звонок", "01.11.2026 10:00", "+79990000001", "", "входящий", "отвечен", "95", "c-1",
         email_of("M1")],
        ["заметка", "01.11.2026 11:00", "+79990000002", "Перезвонить", "", "", "", "", ""],
        ["звонок", "01.11.2026 12:00", "+79990000003", "", "исходящий", "пропущен", "", "c-2",
         ""],
        ["note", "01.11.2026 13:00", "", "Без клиента", "", "", "", "", ""],
    ])
    run = bulk_import(path, "activities", who="H", mode=ImportMode.PER_ROW)
    # C1 and C2 are in H's team; C3 (other team) and the row without a client are refused
    assert (run.total, run.created, run.duplicates, run.failed) == (4, 2, 0, 2)
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (4, "client_id", NO_CLIENT), (5, "client_id", NO_CLIENT)]
    assert activities(engine) == [
        (ActivityKind.CALL, people.clients["C1"], people.users["M1"],
         datetime(2026, 11, 1, 7, tzinfo=UTC), None, Direction.INBOUND, CallStatus.ANSWERED,
         95, "c-1"),
        (ActivityKind.NOTE, people.clients["C2"], people.users["H"],
         datetime(2026, 11, 1, 8, tzinfo=UTC), "Перезвонить", None, None, None, None),
    ]
    again = bulk_import(path, "activities", who="X")
    # the administrator may import all four; the two stored ones are duplicates
    assert (again.created, again.duplicates, again.failed) == (2, 2, 0)
    assert len(activities(engine)) == 4
