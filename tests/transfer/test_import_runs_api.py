"""Bulk imports, import runs, saved mappings and ad-spend reports over HTTP, per role."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from voronka.campaign.models import AdSpend, Campaign, Channel, ChannelKind
from voronka.client.models import Client
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.jobs import run_pending

SAMPLES = Path(__file__).parents[2] / "docs" / "samples"


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    monkeypatch.setenv("VORONKA_IMPORT_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    monkeypatch.delenv("VORONKA_IMPORT_DIR")
    get_settings.cache_clear()


def client_count(engine):
    with unit_of_work(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(Client))


def test_a_bulk_upload_is_queued_then_run_by_the_job(people, engine, upload_dir):
    content = "Имя;Телефон\r\nПервый;+79997770001\r\nВторой;8 999 000-00-01\r\n".encode("cp1251")
    response = people.http("X").post(
        "/api/v1/imports/bulk/clients", files={"file": ("list.csv", content)},
        data={"mode": "per-row"})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert (queued["status"], queued["file_name"], queued["total"]) == ("queued", "list.csv", 0)
    assert len(list(upload_dir.iterdir())) == 1
    assert run_pending(engine) == 1
    detail = people.http("X").get(f"/api/v1/imports/runs/{queued['id']}").json()
    # row 2 is new, row 3 repeats C1's phone
    assert {k: detail[k] for k in ("status", "total", "created", "duplicates", "failed")} == {
        "status": "done", "total": 2, "created": 1, "duplicates": 1, "failed": 0}
    assert detail["columns"] == {"Имя": "name", "Телефон": "phone"}
    assert detail["sample"][1] == {"row": 3, "outcome": "duplicate",
                                   "client_id": people.clients["C1"]}
    assert list(upload_dir.iterdir()) == []  # the upload is gone once the run is over
    assert client_count(engine) == 4


REFUSED = [
    ("M1", "/api/v1/imports/bulk/clients"), ("K", "/api/v1/imports/bulk/clients"),
    ("A", "/api/v1/imports/bulk/clients"), ("M1", "/api/v1/imports/bulk/touchpoints"),
    ("H", "/api/v1/imports/bulk/touchpoints"), ("H", "/api/v1/imports/ad-spend"),
    ("M1", "/api/v1/imports/ad-spend"), ("A", "/api/v1/imports/ad-spend"),
]


def test_roles_without_import_rights_are_refused(people, engine, upload_dir):
    for who, path in REFUSED:
        response = people.http(who).post(path, files={"file": ("a.csv", b"name\r\nX\r\n")},
                                         data={"platform": "generic"})
        assert response.status_code == 403, (who, path)
    assert client_count(engine) == 3
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


def test_runs_and_their_error_reports_are_visible_to_their_owner_and_admins(
    people, engine, upload_dir
):
    content = b"name,phone\r\n=HYPERLINK(\"http://x\"),not a phone\r\n"
    queued = people.http("H").post("/api/v1/imports/bulk/clients",
                                   files={"file": ("bad.csv", content)}).json()
    run_pending(engine)
    run_id = queued["id"]
    for who, status in [("H", 200), ("X", 200), ("H2", 404), ("K", 404), ("M1", 403)]:
        assert people.http(who).get(f"/api/v1/imports/runs/{run_id}").status_code == status
    listed = {who: people.http(who).get("/api/v1/imports/runs").json()["total"]
              for who in ("H", "X", "H2")}
    assert listed == {"H": 1, "X": 1, "H2": 0}
    report = people.http("H").get(f"/api/v1/imports/runs/{run_id}/errors.csv")
    assert report.status_code == 200
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,column,field,value,message"
    assert lines[1].startswith("2,phone,phone,not a phone,")
    assert people.http("H2").get(f"/api/v1/imports/runs/{run_id}/errors.csv").status_code == 404
    detail = people.http("H").get(f"/api/v1/imports/runs/{run_id}").json()
    assert (detail["status"], detail["failed"]) == ("refused", 1)


def test_saved_mappings_are_reused_by_name(people, engine, upload_dir):
    saved = people.http("X").post("/api/v1/imports/mappings", json={
        "name": "crm-export", "entity": "clients", "columns": {"Контрагент": "name"}})
    assert saved.status_code == 201, saved.text
    again = people.http("X").post("/api/v1/imports/mappings", json={
        "name": "crm-export", "entity": "clients", "columns": {"Контрагент": "name"}})
    assert again.status_code == 409
    unknown = people.http("X").post("/api/v1/imports/mappings", json={
        "name": "x", "entity": "clients", "columns": {"A": "password"}})
    assert unknown.status_code == 422
    response = people.http("X").post(
        "/api/v1/imports/bulk/clients",
        files={"file": ("c.csv", "Контрагент\r\nООО Ромашка\r\n".encode())},
        data={"mapping_name": "crm-export"})
    assert response.status_code == 202
    run_pending(engine)
    assert client_count(engine) == 4
    missing = people.http("X").post(
        "/api/v1/imports/bulk/clients", files={"file": ("c.csv", b"name\r\nX\r\n")},
        data={"mapping_name": "nope"})
    assert missing.status_code == 422


def test_marketer_imports_ad_spend(people, engine, upload_dir):
    with unit_of_work(engine) as session:
        channel = Channel(workspace_id=1, slug="vk", name="VK", kind=ChannelKind.PAID_SOCIAL)
        session.add(channel)
        session.flush()
        session.add(Campaign(workspace_id=1, channel_id=channel.id, name="VK",
                             utm_campaign="vk_retargeting"))
    response = people.http("K").post(
        "/api/v1/imports/ad-spend",
        files={"file": ("vk.csv", (SAMPLES / "vk_ads.csv").read_bytes())},
        data={"platform": "vk"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["entity"], body["status"], body["created"], body["failed"]) == (
        "ad_spend", "done", 2, 0)
    with unit_of_work(engine, write=False) as session:
        assert session.scalar(select(func.sum(AdSpend.clicks))) == 420 + 388
    assert list(upload_dir.iterdir()) == []
