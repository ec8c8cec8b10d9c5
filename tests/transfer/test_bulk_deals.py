"""Bulk deal import with stage history, and the funnel report over what it wrote.

The pipeline is the sample "Sales": New → Qualified → Proposal → Won | Lost. The cast's
clients C1 (+79990000001, owner M1), C2 (+79990000002, M2), C3 (+79990000003, M3, the other
team). Times without an offset are Moscow time (UTC+3); expected values are worked out by
hand next to each assertion.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.transfer import test_import_runs_api
from tests.transfer.conftest import create_bulk_run
from tests.transfer.files import write_csv
from voronka.access.actor import Actor
from voronka.analytics import snapshot, sources
from voronka.analytics.query import Period
from voronka.analytics.reports import funnel
from voronka.analytics.runner import Runner
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStageChange
from voronka.errors import Forbidden, InvalidInput
from voronka.jobs import run_pending
from voronka.transfer.bulk import runner
from voronka.transfer.bulk.activities import NO_CLIENT
from voronka.transfer.models import RunStatus
from voronka.transfer.options import ImportMode, OnDuplicate

HEADER = [
    "ID сделки",
    "Название",
    "Телефон",
    "Воронка",
    "Этап",
    "Сумма",
    "Дата создания",
    "Дата закрытия",
    "Причина отказа",
    "Причина успеха",
    "История",
]


# fixtures of the API and command-line tests, used here too
upload_dir = test_import_runs_api.upload_dir


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def deal_file(tmp_path, name="d.csv"):
    return write_csv(
        tmp_path / name,
        [
            HEADER,
            [
                "D-1",
                "Поставка",
                "+79990000001",
                "Sales",
                "Won",
                "150 000,00",
                "02.03.2026 10:00",
                "09.03.2026",
                "",
                "",
                "New 02.03.2026 10:00; Qualified 03.03.2026 10:00; Proposal 05.03.2026 10:00; "
                "Won 09.03.2026 10:00",
            ],
            [
                "D-2",
                "Монтаж",
                "+79990000002",
                "",
                "Lost",
                "",
                "",
                "",
                "дорого",
                "",
                "New 2026-03-02 12:00; Qualified 2026-03-02 18:00; Proposal 2026-03-04 18:00; "
                "Lost 2026-03-06 18:00",
            ],
            [
                "D-3",
                "Сервис",
                "+79990000001",
                "",
                "Qualified",
                "99.90",
                "2026-03-03 09:00",
                "",
                "",
                "",
                "",
            ],
            [
                "D-4",
                "Аудит",
                "+79990000002",
                "",
                "",
                "",
                "",
                "",
                "",
                "скидка",
                "New @ 2026-03-04 10:00\nProposal — 2026-03-06 10:00\nWon: 2026-03-10 10:00",
            ],
        ],
        delimiter=";",
    )


def stored_deals(engine):
    """external id → (stage name, status, client, owner, amount, created, entered, closed,
    lost reason, custom fields)."""
    with unit_of_work(engine, write=False) as session:
        deals = session.scalars(select(Deal).order_by(Deal.external_id)).all()
        names = {}
        from voronka.pipeline.models import Stage

        names = dict(session.execute(select(Stage.id, Stage.name)).all())
        return {
            d.external_id: (
                names[d.stage_id],
                d.status.value,
                d.client_id,
                d.owner_id,
                d.amount,
                d.created_at,
                d.stage_entered_at,
                d.closed_at,
                d.lost_reason,
                d.custom_fields,
            )
            for d in deals
        }


def stored_history(engine):
    """external id → [(from stage, to stage, at), …] in the order written."""
    with unit_of_work(engine, write=False) as session:
        from voronka.pipeline.models import Stage

        names = dict(session.execute(select(Stage.id, Stage.name)).all())
        rows = session.execute(
            select(
                Deal.external_id,
                DealStageChange.from_stage_id,
                DealStageChange.to_stage_id,
                DealStageChange.changed_at,
            )
            .join(Deal, Deal.id == DealStageChange.deal_id)
            .order_by(DealStageChange.id)
        ).all()
    out: dict[str, list] = {}
    for external_id, before, after, at in rows:
        out.setdefault(external_id, []).append((names.get(before), names[after], at))
    return out


def test_deals_are_written_with_their_stage_history(engine, people, sales, bulk_import, tmp_path):
    run = bulk_import(deal_file(tmp_path), "deals")
    assert (run.total, run.created, run.duplicates, run.failed) == (4, 4, 0, 0), run.errors
    c1, c2, m1, m2 = (
        people.clients["C1"],
        people.clients["C2"],
        people.users["M1"],
        people.users["M2"],
    )
    assert stored_deals(engine) == {
        "D-1": (
            "Won",
            "won",
            c1,
            m1,
            Decimal("150000.00"),
            utc(2026, 3, 2, 7),
            utc(2026, 3, 9, 7),
            utc(2026, 3, 9, 7),
            None,
            {},
        ),
        # created when it entered its first stage: 2026-03-02 12:00 Moscow
        "D-2": (
            "Lost",
            "lost",
            c2,
            m2,
            Decimal("0.00"),
            utc(2026, 3, 2, 9),
            utc(2026, 3, 6, 15),
            utc(2026, 3, 6, 15),
            "дорого",
            {},
        ),
        # no history: it entered its current stage when it was created
        "D-3": (
            "Qualified",
            "open",
            c1,
            m1,
            Decimal("99.90"),
            utc(2026, 3, 3, 6),
            utc(2026, 3, 3, 6),
            None,
            None,
            {},
        ),
        # the stage is the history's last
        "D-4": (
            "Won",
            "won",
            c2,
            m2,
            Decimal("0.00"),
            utc(2026, 3, 4, 7),
            utc(2026, 3, 10, 7),
            utc(2026, 3, 10, 7),
            None,
            {"won_reason": "скидка"},
        ),
    }
    assert stored_history(engine) == {
        "D-1": [
            (None, "New", utc(2026, 3, 2, 7)),
            ("New", "Qualified", utc(2026, 3, 3, 7)),
            ("Qualified", "Proposal", utc(2026, 3, 5, 7)),
            ("Proposal", "Won", utc(2026, 3, 9, 7)),
        ],
        "D-2": [
            (None, "New", utc(2026, 3, 2, 9)),
            ("New", "Qualified", utc(2026, 3, 2, 15)),
            ("Qualified", "Proposal", utc(2026, 3, 4, 15)),
            ("Proposal", "Lost", utc(2026, 3, 6, 15)),
        ],
        "D-3": [(None, "Qualified", utc(2026, 3, 3, 6))],
        "D-4": [
            (None, "New", utc(2026, 3, 4, 7)),
            ("New", "Proposal", utc(2026, 3, 6, 7)),
            ("Proposal", "Won", utc(2026, 3, 10, 7)),
        ],
    }
    again = bulk_import(deal_file(tmp_path), "deals")
    assert (again.created, again.duplicates, again.failed) == (0, 4, 0)
    assert sum(len(h) for h in stored_history(engine).values()) == 4 + 4 + 1 + 3
    with pytest.raises(InvalidInput):
        bulk_import(deal_file(tmp_path), "deals", on_duplicate=OnDuplicate.UPDATE)


def _funnel_runner(engine, tmp_path) -> Runner:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        return Runner(sources.postgres_sources(url, "Europe/Moscow"))
    snapshot.refresh(url, tmp_path / "snapshot")
    return Runner(sources.duckdb_sources(tmp_path / "snapshot", "Europe/Moscow"))


def test_the_funnel_over_imported_history_gives_the_hand_counted_numbers(
    engine, people, sales, bulk_import, tmp_path
):
    bulk_import(deal_file(tmp_path), "deals")
    runner_ = _funnel_runner(engine, tmp_path)
    try:
        result = funnel.run(
            runner_,
            funnel.FunnelQuery(
                period=Period(start="2026-03-01", end="2026-03-31"),
                steps=tuple(sales.stages[s] for s in ("New", "Qualified", "Proposal", "Won")),
                conversion_window_days=30,
            ),
        )
    finally:
        runner_.sources.backend.disconnect()
    rows = [r for r in result.rows if r["label"] == "total"]
    # entered New: D-1, D-2, D-4 (D-3 was created in Qualified, so it never entered step 1);
    # Qualified: D-1, D-2 (D-4 skipped it); Proposal: D-1, D-2 (D-4's Proposal does not
    # count without Qualified before it); Won: D-1 (D-2 was lost)
    assert [r["entered"] for r in rows] == [3, 2, 2, 1]
    # hours from the previous step: Qualified D-1 24, D-2 6 → median 15
    assert rows[1]["median_hours_from_previous"] == pytest.approx(15.0)


def test_inconsistent_rows_are_reported_with_row_and_field(
    engine, people, sales, bulk_import, tmp_path
):
    path = write_csv(
        tmp_path / "bad.csv",
        [
            [
                "external_id",
                "title",
                "phone",
                "stage",
                "created_at",
                "closed_at",
                "lost_reason",
                "stage_history",
            ],
            ["B-1", "a", "+79990000001", "", "", "", "", "Negotiation 2026-03-02 10:00"],
            [
                "B-2",
                "b",
                "+79990000001",
                "",
                "",
                "",
                "",
                "New 2026-03-03 10:00; Qualified 2026-03-02 10:00",
            ],
            [
                "B-3",
                "c",
                "+79990000001",
                "Proposal",
                "",
                "",
                "",
                "New 2026-03-02 10:00; Qualified 2026-03-03 10:00",
            ],
            ["B-4", "d", "+79990000001", "", "2026-03-01 10:00", "", "", "New 2026-03-02 10:00"],
            ["B-5", "e", "+79990000001", "Lost", "2026-03-01", "", "", ""],
            ["B-6", "f", "+79990000001", "New", "2026-03-01", "2026-03-05", "", ""],
            [
                "B-7",
                "g",
                "+79990000001",
                "",
                "",
                "2026-03-05",
                "",
                "New 2026-03-02 10:00; Won 2026-03-04 10:00",
            ],
            ["B-8", "h", "+79990000001", "", "", "", "", "New yesterday"],
            ["B-9", "i", "+79990000009", "", "2026-03-01", "", "", ""],
            ["B-9", "j", "+79990000001", "", "2026-03-01", "", "", ""],
            ["B-10", "", "+79990000001", "", "2026-03-01", "", "", ""],
            ["B-11", "k", "+79990000001", "", "", "", "", "New 2026-03-02; New 2026-03-03"],
            ["B-12", "ok", "+79990000001", "", "2026-03-01 10:00", "", "", ""],
        ],
    )
    run = bulk_import(path, "deals", mode=ImportMode.PER_ROW)
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (2, "stage_history", "Negotiation: pipeline 'Sales' has no stage with this name"),
        (3, "stage_history", "Qualified at 2026-03-02 07:00 UTC is before the entry before it"),
        (4, "stage_history", "ends in Qualified, but the deal's stage is Proposal"),
        (
            5,
            "created_at",
            "the stage history starts at 2026-03-02 07:00 UTC: a deal enters its "
            "first stage when it is created",
        ),
        (6, "lost_reason", "required for a lost deal"),
        (7, "closed_at", "an open deal has no closing date"),
        (8, "closed_at", "the deal entered Won on 2026-03-04"),
        (9, "stage_history", "'New yesterday' is not a stage followed by a date and time"),
        (10, "phone", NO_CLIENT),
        (11, "external_id", "the same external id is on row 10"),
        (12, "title", "required"),
        (13, "stage_history", "New follows itself"),
    ]
    assert list(stored_deals(engine)) == ["B-12"]
    atomic = bulk_import(path, "deals", mode=ImportMode.ATOMIC)
    assert (atomic.status, atomic.failed, atomic.created) == (RunStatus.REFUSED, 12, 0)
    assert list(stored_deals(engine)) == ["B-12"]


def test_scope_dry_run_and_audit(engine, people, sales, bulk_import, tmp_path):
    path = write_csv(
        tmp_path / "s.csv",
        [
            ["external_id", "title", "phone", "created_at"],
            ["S-1", "своя", "+79990000001", "2026-03-01"],
            ["S-3", "чужая", "+79990000003", "2026-03-01"],
        ],
    )
    dry = bulk_import(path, "deals", who="H", dry_run=True, mode=ImportMode.PER_ROW)
    assert (dry.created, dry.failed) == (1, 1) and stored_deals(engine) == {}
    run = bulk_import(path, "deals", who="H", mode=ImportMode.PER_ROW)
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [(3, "phone", NO_CLIENT)]
    # H imported it and names no owner: H owns it (the run's default owner is the importer)
    assert stored_deals(engine)["S-1"][3] == people.users["H"]
    with pytest.raises(Forbidden):
        bulk_import(path, "deals", who="M1")
    from voronka.audit.models import AuditEvent

    with unit_of_work(engine, write=False) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert [(e.entity, e.detail["created"], e.detail["failed"]) for e in events] == [("deal", 1, 1)]


def test_a_crashed_per_row_run_resumes_without_writing_a_deal_twice(
    engine, people, sales, tmp_path
):
    rows = [["external_id", "title", "phone", "stage_history"]]
    rows += [
        [
            f"R-{n}",
            f"Сделка {n}",
            "+79990000001",
            f"New 2026-03-0{n} 10:00; Qualified 2026-03-0{n} 12:00",
        ]
        for n in range(1, 6)
    ]
    path = write_csv(tmp_path / "r.csv", rows)
    actor = Actor.system()
    run_id = create_bulk_run(engine, path, "deals", actor, mode=ImportMode.PER_ROW, batch_size=2)

    def die(done, total, checkpoint):  # type: ignore[no-untyped-def]
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        runner.execute(engine, run_id, actor=actor, progress=die)
    assert sorted(stored_deals(engine)) == ["R-1", "R-2"]
    resumed = runner.execute(engine, run_id, actor=actor)
    assert (resumed.status, resumed.total, resumed.created, resumed.duplicates) == (
        RunStatus.DONE,
        5,
        5,
        0,
    )
    assert [len(h) for h in stored_history(engine).values()] == [2] * 5


def test_deals_over_http_as_a_job(engine, people, sales, upload_dir, tmp_path):
    content = deal_file(tmp_path).read_bytes()
    response = people.http("X").post(
        "/api/v1/imports/bulk/deals", files={"file": ("d.csv", content)}
    )
    assert response.status_code == 202, response.text
    assert run_pending(engine) == 1
    detail = people.http("X").get(f"/api/v1/imports/runs/{response.json()['id']}").json()
    assert (detail["status"], detail["created"], detail["failed"]) == ("done", 4, 0)
    assert detail["columns"]["История"] == "stage_history"
    assert (
        people.http("M1")
        .post("/api/v1/imports/bulk/deals", files={"file": ("d.csv", content)})
        .status_code
        == 403
    )


def test_batches_parsed_ahead_see_the_deals_of_earlier_batches(engine, people, sales, tmp_path):
    # each batch is parsed by the reading thread while the one before it is written: an
    # external id of an earlier batch is a duplicate, an error names its own row
    rows = [["external_id", "title", "phone", "stage"]]
    rows += [[f"R-{n}", f"Сделка {n}", "+79990000001", "New"] for n in (1, 2, 1, 3)]
    rows += [["R-4", "Сделка 4", "+79990000001", "Nowhere"]]
    path = write_csv(tmp_path / "r.csv", rows)
    run_id = create_bulk_run(engine, path, "deals", Actor.system(), mode=ImportMode.PER_ROW,
                             batch_size=2)
    run = runner.execute(engine, run_id, actor=Actor.system())
    assert (run.total, run.created, run.duplicates, run.failed) == (5, 3, 1, 1)
    assert [(e["row"], e["field"]) for e in run.errors] == [(6, "stage")]
    assert sorted(stored_deals(engine)) == ["R-1", "R-2", "R-3"]
