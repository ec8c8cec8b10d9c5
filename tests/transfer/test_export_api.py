"""Exports over HTTP and from the command line, with real sign-ins and real processes:
every entity's route, the policy per role, filters and their errors in the one error shape,
the audit event, and a larger export streamed in pieces.

World: tests/transfer/export_world.py (C1 and its orders belong to M1, team T1 of head H).
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.access.support import assert_error_shape
from tests.fixtures import email_of
from tests.transfer import export_world, snapshots
from tests.transfer.files import read_xlsx
from tests.transfer.test_transfer_cli import assert_one_sentence_error, voronka  # noqa: F401
from voronka.campaign.models import Touchpoint, TouchpointKind
from voronka.db.session import unit_of_work
from voronka.transfer.exporter import ExportEntity


@pytest.fixture
def world(engine, people, sales):
    return export_world.build(engine, people, sales)


def rows_of(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("entity", [e.value for e in ExportEntity])
def test_every_entity_has_a_route_behind_its_policy(people, world, entity):
    """Administrators export everything; managers nothing (the EXPORT policy)."""
    admin = people.http("X").get(f"/api/v1/exports/{entity}.csv")
    assert rows_of(admin), entity
    assert admin.headers["content-disposition"].startswith(f'attachment; filename="{entity}-')
    refused = people.http("M1").get(f"/api/v1/exports/{entity}.csv")
    assert assert_error_shape(refused, 403)


def test_head_of_sales_gets_the_team_orders_filtered_and_audited(people, world, engine):
    api = people.http("H")
    response = api.get("/api/v1/exports/orders.csv", params={"status": "paid"})
    assert [r["number"] for r in rows_of(response)] == ["O-1", "O-1"]  # C3's O-2: team T2
    xlsx = api.get("/api/v1/exports/orders.xlsx", params={"date_from": "2026-03-01"})
    assert xlsx.status_code == 200
    (event, second) = snapshots.audit_events(engine, "export")
    assert (event.actor_id, event.entity, event.row_count, event.detail) == (
        people.users["H"],
        "order",
        2,
        {"export": "orders", "format": "csv", "filter": {"status": "paid"}},
    )
    assert second.detail["filter"] == {"date_from": "2026-03-01 00:00:00"}
    assert "+7999" not in str(event.detail)


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("orders.csv", {"pipeline_id": 1}, "pipeline_id"),
        ("deals.csv", {"status": "paid"}, "status"),
        ("touchpoints.csv", {"kind": "meeting"}, "kind"),
        ("clients.csv", {"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ("clients.csv", {"date_from": "yesterday"}, "date_from"),
        ("deals.csv", {"pipline_id": 1}, "pipline_id"),  # a typo never widens an export
    ],
)
def test_a_bad_filter_is_a_422_naming_the_field(people, world, engine, url, params, field):
    response = people.http("X").get(f"/api/v1/exports/{url}", params=params)
    error = assert_error_shape(response, 422)
    assert [d["field"] for d in error["details"]] == [field], error
    assert snapshots.audit_events(engine, "export") == []  # nothing exported, nothing audited


def test_a_larger_export_streams_in_pieces(people, world, engine):
    """3 000 touchpoints: more than one page of rows and one CSV chunk, all of them sent."""
    with unit_of_work(engine) as session:
        session.add_all(
            Touchpoint(workspace_id=1, visitor_id=f"bulk-{n}", kind=TouchpointKind.VISIT,
                       occurred_at=export_world.T0, pages=1, seconds_on_site=n)
            for n in range(3000)
        )  # fmt: skip
    with people.http("K").stream("GET", "/api/v1/exports/touchpoints.csv") as response:
        assert response.status_code == 200
        pieces = list(response.iter_raw())
    assert len(pieces) > 1
    rows = list(csv.DictReader(io.StringIO(b"".join(pieces).decode("utf-8-sig"), newline="")))
    assert len(rows) == 3002
    assert sum(int(r["seconds_on_site"]) for r in rows) == 95 + sum(range(3000))


def test_cli_exports_with_filters_as_a_user_and_refuses_bad_filters(
    voronka,  # noqa: F811
    world,
    engine,
    tmp_path,
):
    result = voronka("export", "orders", "--out", "o.xlsx", "--as", email_of("H"), "--status",
                     "paid", "--from", "2026-03-01")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "exported 2 orders to o.xlsx"
    header, *rows = read_xlsx(tmp_path / "o.xlsx")
    assert [r[header.index("sku")] for r in rows] == ["A-1", "B-2"]
    stages = voronka("export", "deal-stages", "--pipeline", "Sales", "--owner", email_of("M3"))
    assert [line.split(",")[4] for line in stages.stdout.splitlines()[1:]] == ["New", "Won"]
    (event, *_) = snapshots.audit_events(engine, "export")
    assert (event.entity, event.row_count, event.detail["filter"]["status"]) == ("order", 2, "paid")

    refused = voronka("export", "clients", "--as", email_of("M1"))
    assert_one_sentence_error(refused, "your role may not export clients")
    bad = voronka("export", "products", "--owner", email_of("M1"))
    assert_one_sentence_error(bad, "products cannot be filtered by owner_id")
    unknown = voronka("export", "deals", "--pipeline", "Nope")
    assert_one_sentence_error(unknown, "no pipeline named 'Nope'")
    wrong = voronka("export", "orders", "--status", "open", "--out", "x.csv")
    assert_one_sentence_error(wrong, "status of orders must be one of cancelled, confirmed")
    assert not (tmp_path / "x.csv").exists()
