"""Client API over HTTP: create, read, update with If-Match, search, duplicates, merge."""

from __future__ import annotations

from sqlalchemy import func, select

from voronka.audit.models import AuditEvent
from voronka.client.models import Client
from voronka.db.session import unit_of_work


def test_create_normalises_contacts_and_defaults_owner(people):
    api = people.http("M1")
    response = api.post("/api/v1/clients", json={
        "name": "Иван Петров", "tags": ["VIP", "vip"],
        "contacts": [{"kind": "phone", "value": "8 (999) 123-45-67"},
                     {"kind": "email", "value": " Ivan@Example.RU "}]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["owner_id"] == people.users["M1"]
    assert [c["value"] for c in body["contacts"]] == ["+79991234567", "ivan@example.ru"]
    assert body["tags"] == ["vip"]
    assert response.headers["etag"] == f'"{body["id"]}-1"'


def test_search_is_case_insensitive_in_cyrillic(people):
    api = people.http("M1")
    api.post("/api/v1/clients", json={"name": "Ёлкина Анна"})
    found = api.get("/api/v1/clients", params={"q": "ЁЛКИНА"}).json()
    assert [c["name"] for c in found["items"]] == ["Ёлкина Анна"]
    assert found["total"] == 1


def test_like_wildcards_are_literal(people):
    api = people.http("M1")
    api.post("/api/v1/clients", json={"name": "100% honey"})
    api.post("/api/v1/clients", json={"name": "1000 honey"})
    found = api.get("/api/v1/clients", params={"q": "100%"}).json()
    assert [c["name"] for c in found["items"]] == ["100% honey"]


def test_update_requires_current_etag(people):
    api = people.http("M1")
    client_id = people.clients["C1"]
    etag = api.get(f"/api/v1/clients/{client_id}").headers["etag"]
    missing = api.patch(f"/api/v1/clients/{client_id}", json={"name": "New"})
    assert missing.status_code == 428
    first = api.patch(f"/api/v1/clients/{client_id}", json={"name": "First"},
                      headers={"If-Match": etag})
    assert first.status_code == 200
    second = api.patch(f"/api/v1/clients/{client_id}", json={"name": "Second"},
                       headers={"If-Match": etag})
    assert second.status_code == 412
    assert second.json()["error"]["code"] == "precondition_failed"
    assert api.get(f"/api/v1/clients/{client_id}").json()["name"] == "First"


def test_duplicate_phone_is_refused_then_merged_without_losing_history(people, engine):
    api = people.http("H")
    response = api.post("/api/v1/clients", json={
        "name": "Copy of C1", "owner_id": people.users["M1"],
        "contacts": [{"kind": "phone", "value": "+7 999 000-00-01"}]})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_client"
    copy = api.post("/api/v1/clients", params={"allow_duplicate": "true"}, json={
        "name": "Copy of C1", "owner_id": people.users["M1"],
        "contacts": [{"kind": "phone", "value": "+7 999 000-00-01"},
                     {"kind": "email", "value": "copy@example.ru"}]}).json()
    api.post(f"/api/v1/clients/{copy['id']}/consents",
             json={"purpose": "marketing_email", "granted": True, "method": "web_form"})
    groups = api.get("/api/v1/clients/duplicates").json()
    assert groups == [{"kind": "phone", "value": "+79990000001",
                       "client_ids": [people.clients["C1"], copy["id"]]}]
    merged = api.post(f"/api/v1/clients/{people.clients['C1']}/merge",
                      json={"source_ids": [copy["id"]]})
    assert merged.status_code == 200, merged.text
    assert sorted(c["value"] for c in merged.json()["contacts"]) == [
        "+79990000001", "copy@example.ru"]
    assert api.get(f"/api/v1/clients/{copy['id']}").status_code == 404
    consents = api.get(f"/api/v1/clients/{people.clients['C1']}/consents").json()
    assert [c["purpose"] for c in consents] == ["marketing_email"]
    with unit_of_work(engine) as session:
        source = session.get(Client, copy["id"])
        assert source.is_deleted and source.merged_into_id == people.clients["C1"]


def test_reads_and_changes_are_audited_without_personal_values(people, engine):
    api = people.http("M1")
    client_id = people.clients["C1"]
    etag = api.get(f"/api/v1/clients/{client_id}").headers["etag"]
    api.patch(f"/api/v1/clients/{client_id}", json={"name": "Secret Name"},
              headers={"If-Match": etag})
    with unit_of_work(engine) as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "client", AuditEvent.entity_id == client_id)
            .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["read", "update"]
    assert events[1].actor_id == people.users["M1"]
    assert events[1].changes == {"name": ["<changed>", "<changed>"]}


def test_bad_input_names_the_field_and_changes_nothing(people, engine):
    api = people.http("M1")
    with unit_of_work(engine) as session:
        before = session.scalar(select(func.count()).select_from(Client))
    cases = [
        ({"name": "x", "contacts": [{"kind": "phone", "value": "12"}]}, "contacts.0.value"),
        ({"name": "x", "contacts": [{"kind": "email", "value": "not-an-email"}]},
         "contacts.0.value"),
        ({"name": "x" * 301}, "name"),
        ({"name": "x", "owner_id": "abc"}, "owner_id"),
        ({"name": "x", "is_deleted": True}, "is_deleted"),
        ({"name": "x", "owner_id": 999999}, "owner_id"),
    ]
    for payload, field in cases:
        response = api.post("/api/v1/clients", json=payload)
        assert 400 <= response.status_code < 500, payload
        fields = [d.get("field") for d in response.json()["error"]["details"]]
        assert field in fields, (payload, response.json())
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(Client)) == before


def test_html_and_sql_in_text_are_stored_verbatim(people):
    api = people.http("M1")
    name = "<script>alert(1)</script>'; DROP TABLE client; --"
    created = api.post("/api/v1/clients", json={"name": name}).json()
    assert api.get(f"/api/v1/clients/{created['id']}").json()["name"] == name
    assert api.get("/api/v1/clients", params={"q": "drop table"}).json()["total"] == 1


def test_naive_datetime_filter_is_a_422_naming_the_parameter(people):
    response = people.http("M1").get("/api/v1/clients",
                                     params={"created_from": "2026-01-01T00:00:00"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "created_from"
    ok = people.http("M1").get("/api/v1/clients",
                               params={"created_from": "2026-01-01T00:00:00+03:00"})
    assert ok.status_code == 200


def test_replacing_contacts_and_tags_keeps_the_shared_values(people):
    api = people.http("M1")
    created = api.post("/api/v1/clients", json={
        "name": "Keeper", "tags": ["a", "b"],
        "contacts": [{"kind": "email", "value": "keep@example.ru"},
                     {"kind": "email", "value": "drop@example.ru"}]})
    etag = created.headers["etag"]
    response = api.patch(f"/api/v1/clients/{created.json()['id']}", headers={"If-Match": etag},
                         json={"tags": ["b", "c"],
                               "contacts": [{"kind": "email", "value": "keep@example.ru"},
                                            {"kind": "email", "value": "new@example.ru"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tags"] == ["b", "c"]
    assert [c["value"] for c in body["contacts"]] == ["keep@example.ru", "new@example.ru"]
