"""Import and export over HTTP with real sign-ins: permissions, scope, audit, error shapes.

RELIABILITY 10 (export per role), 11 (import per role; update of another team's client),
42 (dangerous uploads), 130 (exports audited).
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.access.support import assert_error_shape, database_snapshot
from tests.fixtures import email_of
from tests.transfer import snapshots
from tests.transfer.files import write_xlsx
from voronka.config import get_settings

EXPORTS = [
    f"/api/v1/exports/{entity}.{fmt}" for entity in ("clients", "deals") for fmt in ("csv", "xlsx")
]


def upload(api, entity: str, name: str, content: bytes, **form):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/imports/{entity}", files={"file": (name, content)}, data=form)


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def exported(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_head_of_sales_exports_the_team_clients_only(people, engine):
    response = people.http("H").get("/api/v1/exports/clients.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="clients-') and disposition.endswith(
        '.csv"'
    )
    assert [row["name"] for row in exported(response)] == ["Client C1", "Client C2"]
    everything = exported(people.http("X").get("/api/v1/exports/clients.csv"))
    assert [row["name"] for row in everything] == ["Client C1", "Client C2", "Client C3"]


def test_xlsx_export_is_scoped_too(people):
    response = people.http("H2").get("/api/v1/exports/clients.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert [row[1] for row in xlsx_rows(response)] == ["Client C3"]


def test_deal_export_follows_the_client_scope(people, sales, tmp_path):
    for who, client in (("M1", "C1"), ("M3", "C3")):
        payload = {"title": f"Deal of {client}", "client_id": people.clients[client]}
        assert people.http(who).post("/api/v1/deals", json=payload).status_code == 201
    rows = exported(people.http("H").get("/api/v1/exports/deals.csv"))
    assert [(r["title"], r["client_name"], r["stage"]) for r in rows] == [
        ("Deal of C1", "Client C1", "New")
    ]


@pytest.mark.parametrize("who", ["M1", "K", "A"])
@pytest.mark.parametrize("path", EXPORTS)
def test_roles_without_export_are_refused(people, engine, who, path):
    api = people.http(who)  # signed in before the snapshot: sign-in writes a session
    before = database_snapshot(engine)
    error = assert_error_shape(api.get(path), 403)
    assert error["code"] == "forbidden"
    assert database_snapshot(engine) == before  # not even an audit event


def test_export_is_audited_without_personal_values(people, engine):
    people.http("H").get("/api/v1/exports/clients.csv", params={"owner_id": people.users["M1"]})
    (event,) = snapshots.audit_events(engine, "export")
    assert (event.actor_id, event.entity, event.row_count) == (people.users["H"], "client", 1)
    assert event.detail == {
        "export": "clients", "format": "csv", "filter": {"owner_id": str(people.users["M1"])}
    }
    assert "+7999" not in str(event.detail)


def test_export_filter_by_an_owner_outside_the_scope_is_refused(people):
    response = people.http("H").get(
        "/api/v1/exports/clients.csv", params={"owner_id": people.users["M3"]}
    )
    assert assert_error_shape(response, 403)["details"] == [
        {"field": "owner_id", "message": "outside your scope"}
    ]


@pytest.mark.parametrize("who", ["M1", "K", "A"])
@pytest.mark.parametrize("entity", ["clients", "deals"])
def test_roles_without_import_are_refused(people, engine, who, entity):
    api = people.http(who)
    before = database_snapshot(engine)
    content = csv_bytes([["name", "phone", "title"], ["Intruder", "+79995550001", "x"]])
    response = upload(api, entity, "c.csv", content)
    assert assert_error_shape(response, 403)["code"] == "forbidden"
    assert database_snapshot(engine) == before


def test_head_of_sales_cannot_update_another_teams_client(people, engine):
    """RELIABILITY 11: the row is an error and C3 (team T2) is unchanged."""
    before = [row for row in snapshots.clients(engine) if row[0] == "Client C3"]
    content = csv_bytes(
        [["Имя", "Телефон"], ["Hijacked", "+7 999 000-00-03"], ["Mine now", "+79990000001"]]
    )
    response = upload(
        people.http("H"), "clients", "c.csv", content, mode="per-row", on_duplicate="update"
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["updated"], report["failed"]) == (1, 1)
    assert report["errors"] == [
        {
            "row": 2,
            "column": "Телефон",
            "field": "phone",
            "value": "+79990000003",
            "message": "a client outside your scope has this phone; it was not changed",
        }
    ]
    assert [row for row in snapshots.clients(engine) if row[0] == "Client C3"] == before
    assert "Mine now" in [row[0] for row in snapshots.clients(engine)]


def test_head_of_sales_imports_deals_only_for_visible_clients(people, sales, engine):
    content = csv_bytes(
        [
            ["title", "client_id"],
            ["Ours", str(people.clients["C2"])],
            ["Theirs", str(people.clients["C3"])],
        ]
    )
    report = upload(people.http("H"), "deals", "d.csv", content, mode="per-row").json()
    assert (report["created"], report["failed"]) == (1, 1)
    assert report["errors"][0]["message"] == "no client with this id visible to you"


def test_head_of_sales_may_not_give_clients_to_another_team(people, engine):
    content = csv_bytes([["Имя", "Ответственный"], ["Gift", email_of("M3")]])
    report = upload(people.http("H"), "clients", "c.csv", content).json()
    assert report["errors"] == [
        {
            "row": 2,
            "column": "Ответственный",
            "field": "owner",
            "value": email_of("M3"),
            "message": "outside your scope",
        }
    ]
    assert report["committed"] is False


def test_dry_run_over_http_writes_nothing(people, engine):
    api = people.http("H")
    before = database_snapshot(engine)
    content = csv_bytes([["Имя", "Телефон"], ["Новый", "+79995550002"]])
    response = upload(api, "clients", "c.csv", content, dry_run="true")
    assert response.json()["created"] == 1
    assert response.json()["dry_run"] is True
    assert database_snapshot(engine) == before


def test_xlsx_upload_and_csv_report(people, tmp_path):
    path = write_xlsx(
        tmp_path / "c.xlsx", [["Имя", "Телефон"], ["Плохой", "12"], ["=1+1", "+79995550003"]]
    )
    response = upload(
        people.http("X"),
        "clients",
        "Клиенты.xlsx",
        path.read_bytes(),
        mode="per-row",
        report_format="csv",
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="import-report.csv"'
    text = response.content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["row", "column", "field", "value", "message"],
        ["2", "Телефон", "phone", "12", "not a possible phone number (wrong number of digits)"],
    ]
    exported_xlsx = people.http("X").get("/api/v1/exports/clients.xlsx")
    assert "'=1+1" in [row[1] for row in xlsx_rows(exported_xlsx)]  # literal, neutralised


def xlsx_rows(response) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The data rows of an XLSX response."""
    workbook = load_workbook(io.BytesIO(response.content))
    try:
        return list(workbook.worksheets[0].values)[1:]
    finally:
        workbook.close()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("shell.php", b"<?php system($_GET['c']); ?>", "unsupported file type .php"),
        ("run.exe", b"MZ\x90\x00", "unsupported file type .exe"),
        ("clients.csv.html", b"<script>alert(1)</script>", "unsupported file type .html"),
        ("fake.xlsx", b"name,phone\nA,1\n", "not an XLSX workbook"),
        ("binary.csv", b"MZ\x90\x00\x03\x00\x00\x00", "binary, not CSV text"),
        ("empty.csv", b"", "the file is empty"),
    ],
)
def test_dangerous_or_broken_uploads_are_refused(people, engine, name, content, message):
    api = people.http("X")
    before = database_snapshot(engine)
    error = assert_error_shape(upload(api, "clients", name, content), 422)
    assert message in error["message"]
    assert database_snapshot(engine) == before


def test_upload_over_the_size_limit_is_413(people, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 64)
    content = csv_bytes([["Имя"], *[[f"Client {i}"] for i in range(20)]])
    error = assert_error_shape(upload(people.http("X"), "clients", "c.csv", content), 413)
    assert "over 64 bytes" in error["message"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=xyz", b"\x00\x01 not multipart at all"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition form-data\r\n\r\n"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\nx"),
        ("multipart/form-data", b"no boundary"),
    ],
    ids=["garbage", "header-without-colon", "part-without-name", "no-boundary"],
)
def test_what_the_multipart_parser_rejects_is_in_the_error_shape(people, content_type, body):
    response = people.http("X").post(
        "/api/v1/imports/clients", content=body, headers={"Content-Type": content_type}
    )
    assert assert_error_shape(response, 400)["code"] == "bad_request"


def test_missing_file_and_bad_options_are_422(people):
    api = people.http("X")
    missing = assert_error_shape(api.post("/api/v1/imports/clients", data={"mode": "atomic"}), 422)
    assert missing["details"][0]["field"] == "file"
    bad_mode = upload(api, "clients", "c.csv", b"name\nA\n", mode="sometimes")
    assert assert_error_shape(bad_mode, 422)["details"][0]["field"] == "mode"
    unmapped = upload(api, "clients", "c.csv", b"name\nA\n", mapping="Nope=name")
    assert "the file has no column 'Nope'" in assert_error_shape(unmapped, 422)["message"]


def test_unknown_export_format_is_422(people):
    assert_error_shape(people.http("X").get("/api/v1/exports/clients.pdf"), 422)


def test_export_filters_by_creation_time(people):
    api = people.http("X")
    later = api.get("/api/v1/exports/clients.csv", params={"created_from": "2099-01-01"})
    assert later.status_code == 200, later.text
    assert exported(later) == []
    earlier = api.get("/api/v1/exports/clients.csv", params={"created_to": "2099-01-01T00:00:00Z"})
    assert len(exported(earlier)) == 3
