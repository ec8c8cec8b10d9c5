"""Catalogue API over HTTP: product groups (a tree), products, stock level snapshots."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tests.order.support import fields_of, snapshot
from voronka.audit.models import AuditEvent
from voronka.db.session import unit_of_work
from voronka.order.models import Product, ProductGroup, StockLevel


def _group(api, name, parent_id=None):
    response = api.post("/api/v1/product-groups", json={"name": name, "parent_id": parent_id})
    assert response.status_code == 201, response.text
    return response.json()


def test_product_prices_are_exact_and_round_trip_as_strings(people, engine):
    admin = people.http("X")
    created = admin.post(
        "/api/v1/products",
        json={
            "sku": "SKU-1",
            "name": "Kettle",
            "price": "1999.99",
            "cost_price": 1200.5,
            "unit": "pcs",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["price"], body["cost_price"], body["currency"]) == ("1999.99", "1200.50", "RUB")
    assert created.headers["etag"] == f'"{body["id"]}-1"'
    with unit_of_work(engine) as session:
        product = session.get(Product, body["id"])
        assert (product.price, product.cost_price) == (Decimal("1999.99"), Decimal("1200.50"))
    read = admin.get(f"/api/v1/products/{body['id']}")
    assert read.json()["price"] == "1999.99"


def test_update_product_needs_if_match_and_keeps_exact_price(people):
    admin = people.http("X")
    product = admin.post(
        "/api/v1/products", json={"sku": "SKU-1", "name": "Kettle", "price": "10"}
    ).json()
    url = f"/api/v1/products/{product['id']}"
    assert admin.patch(url, json={"price": "11.10"}).status_code == 428
    changed = admin.patch(
        url,
        json={"price": "11.10", "is_active": False},
        headers={"If-Match": f'"{product["id"]}-1"'},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["price"], changed.json()["is_active"]) == ("11.10", False)
    assert changed.headers["etag"] == f'"{product["id"]}-2"'
    stale = admin.patch(url, json={"price": "12"}, headers={"If-Match": f'"{product["id"]}-1"'})
    assert stale.status_code == 412
    assert admin.get(url).json()["price"] == "11.10"


def test_duplicate_sku_is_409_naming_sku_and_stores_nothing(people, engine):
    admin = people.http("X")
    first = admin.post("/api/v1/products", json={"sku": "SKU-1", "name": "A", "price": "1"})
    other = admin.post("/api/v1/products", json={"sku": "SKU-2", "name": "B", "price": "1"})
    before = snapshot(engine, Product, AuditEvent)
    again = admin.post("/api/v1/products", json={"sku": "SKU-1", "name": "Copy", "price": "2"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert fields_of(again) == ["sku"]
    renamed = admin.patch(
        f"/api/v1/products/{other.json()['id']}",
        json={"sku": "SKU-1"},
        headers={"If-Match": other.headers["etag"]},
    )
    assert renamed.status_code == 409
    assert fields_of(renamed) == ["sku"]
    assert snapshot(engine, Product, AuditEvent) == before
    assert first.status_code == 201


def test_bad_product_input_names_the_field_and_stores_nothing(people, engine):
    admin = people.http("X")
    before = snapshot(engine, Product)
    valid = {"sku": "S", "name": "N", "price": "1.00"}
    cases = [
        ({**valid, "price": "1.005"}, "price"),
        ({**valid, "price": "-1"}, "price"),
        ({**valid, "price": "NaN"}, "price"),
        ({**valid, "price": "1" * 30}, "price"),
        ({**valid, "price": "abc"}, "price"),
        ({**valid, "cost_price": "0.001"}, "cost_price"),
        ({**valid, "currency": "rub"}, "currency"),
        ({**valid, "currency": "RUBLE"}, "currency"),
        ({**valid, "id": 5}, "id"),
        ({**valid, "version": 9}, "version"),
        ({**valid, "group_id": 999}, "group_id"),
        ({"name": "N", "price": "1"}, "sku"),
        ({**valid, "sku": "x" * 65}, "sku"),
    ]
    for payload, field in cases:
        response = admin.post("/api/v1/products", json=payload)
        assert response.status_code == 422, (payload, response.text)
        assert field in fields_of(response), (payload, response.json())
    assert snapshot(engine, Product) == before


def test_catalogue_is_read_by_all_and_written_by_admin_and_heads(people, engine):
    admin = people.http("X")
    product = admin.post("/api/v1/products", json={"sku": "S", "name": "N", "price": "1"})
    product_id = product.json()["id"]
    for who in ("H", "M1", "K", "A"):
        assert people.http(who).get(f"/api/v1/products/{product_id}").status_code == 200
        assert people.http(who).get("/api/v1/products").json()["total"] == 1
    before = snapshot(engine, Product, ProductGroup, AuditEvent)
    for who in ("M1", "K", "A"):
        api = people.http(who)
        assert (
            api.post("/api/v1/products", json={"sku": "T", "name": "N", "price": "1"}).status_code
            == 403
        )
        assert (
            api.patch(
                f"/api/v1/products/{product_id}",
                json={"name": "X"},
                headers={"If-Match": product.headers["etag"]},
            ).status_code
            == 403
        )
        assert api.post("/api/v1/product-groups", json={"name": "G"}).status_code == 403
    denied = people.http("H").delete(
        f"/api/v1/products/{product_id}", headers={"If-Match": product.headers["etag"]}
    )
    assert denied.status_code == 403
    assert snapshot(engine, Product, ProductGroup, AuditEvent) == before
    head = people.http("H").post("/api/v1/products", json={"sku": "H-1", "name": "N", "price": "2"})
    assert head.status_code == 201


def test_group_tree_refuses_cycles(people, engine):
    admin = people.http("X")
    top = _group(admin, "Kitchen")
    middle = _group(admin, "Kettles", top["id"])
    leaf = _group(admin, "Electric kettles", middle["id"])
    before = snapshot(engine, ProductGroup)
    for parent in (leaf["id"], middle["id"], top["id"]):
        response = admin.patch(
            f"/api/v1/product-groups/{top['id']}",
            json={"parent_id": parent},
            headers={"If-Match": f'"{top["id"]}-1"'},
        )
        assert response.status_code == 422, response.text
        assert fields_of(response) == ["parent_id"]
    unknown = admin.patch(
        f"/api/v1/product-groups/{top['id']}",
        json={"parent_id": 999},
        headers={"If-Match": f'"{top["id"]}-1"'},
    )
    assert unknown.status_code == 422
    assert snapshot(engine, ProductGroup) == before
    moved = admin.patch(
        f"/api/v1/product-groups/{leaf['id']}",
        json={"parent_id": None},
        headers={"If-Match": f'"{leaf["id"]}-1"'},
    )
    assert moved.status_code == 200
    assert moved.json()["parent_id"] is None
    duplicate = admin.post("/api/v1/product-groups", json={"name": "Kitchen"})
    assert duplicate.status_code == 409
    assert fields_of(duplicate) == ["name"]


def test_product_filter_by_group_includes_subgroups(people):
    admin = people.http("X")
    top = _group(admin, "Kitchen")
    sub = _group(admin, "Kettles", top["id"])
    other = _group(admin, "Garden")
    for sku, group in (("K-1", top), ("K-2", sub), ("G-1", other)):
        admin.post(
            "/api/v1/products",
            json={"sku": sku, "name": sku, "price": "1", "group_id": group["id"]},
        )
    found = admin.get("/api/v1/products", params={"group_id": top["id"], "sort": "-sku"}).json()
    assert [p["sku"] for p in found["items"]] == ["K-2", "K-1"]
    assert found["total"] == 2
    assert admin.get("/api/v1/products", params={"sort": "cost;--"}).status_code == 400
    listed = admin.get("/api/v1/product-groups", params={"parent_id": top["id"]}).json()
    assert [g["name"] for g in listed["items"]] == ["Kettles"]


def test_groups_and_products_in_use_are_not_deleted(people, engine):
    admin = people.http("X")
    group = _group(admin, "Kitchen")
    product = admin.post(
        "/api/v1/products", json={"sku": "S", "name": "N", "price": "1", "group_id": group["id"]}
    )
    admin.put(
        f"/api/v1/products/{product.json()['id']}/stock",
        json={"as_of": "2026-03-01", "quantity": 5},
    )
    before = snapshot(engine, Product, ProductGroup, StockLevel)
    in_use = admin.delete(
        f"/api/v1/product-groups/{group['id']}", headers={"If-Match": f'"{group["id"]}-1"'}
    )
    assert (in_use.status_code, in_use.json()["error"]["code"]) == (409, "in_use")
    stocked = admin.delete(
        f"/api/v1/products/{product.json()['id']}", headers={"If-Match": product.headers["etag"]}
    )
    assert (stocked.status_code, stocked.json()["error"]["code"]) == (409, "in_use")
    assert snapshot(engine, Product, ProductGroup, StockLevel) == before
    empty = _group(admin, "Empty")
    assert (
        admin.delete(
            f"/api/v1/product-groups/{empty['id']}", headers={"If-Match": f'"{empty["id"]}-1"'}
        ).status_code
        == 204
    )
    assert admin.get(f"/api/v1/product-groups/{empty['id']}").status_code == 404


def test_stock_put_upserts_by_warehouse_and_day(people, engine):
    admin = people.http("X")
    product_id = admin.post(
        "/api/v1/products", json={"sku": "S", "name": "N", "price": "1"}
    ).json()["id"]
    url = f"/api/v1/products/{product_id}/stock"
    first = admin.put(url, json={"as_of": "2026-03-01", "quantity": 5})
    assert first.status_code == 201
    again = admin.put(url, json={"as_of": "2026-03-01", "quantity": 7})
    assert again.status_code == 200
    assert again.json() == {**first.json(), "quantity": 7}
    admin.put(url, json={"as_of": "2026-03-01", "warehouse": "north", "quantity": 1})
    admin.put(url, json={"as_of": "2026-03-02", "quantity": 4})
    listed = admin.get(url).json()
    assert [(s["as_of"], s["warehouse"], s["quantity"]) for s in listed["items"]] == [
        ("2026-03-02", "main", 4),
        ("2026-03-01", "main", 7),
        ("2026-03-01", "north", 1),
    ]
    only = admin.get(url, params={"warehouse": "main", "as_of_to": "2026-03-01"}).json()
    assert [s["quantity"] for s in only["items"]] == [7]
    with unit_of_work(engine) as session:
        assert len(session.scalars(select(StockLevel)).all()) == 3


def test_stock_is_written_by_admin_only_and_validated(people, engine):
    admin = people.http("X")
    product_id = admin.post(
        "/api/v1/products", json={"sku": "S", "name": "N", "price": "1"}
    ).json()["id"]
    url = f"/api/v1/products/{product_id}/stock"
    before = snapshot(engine, StockLevel)
    for who in ("H", "M1", "K", "A"):
        assert (
            people.http(who).put(url, json={"as_of": "2026-03-01", "quantity": 1}).status_code
            == 403
        )
        assert people.http(who).get(url).status_code == 200
    for payload, field in (
        ({"as_of": "2026-03-01", "quantity": -1}, "quantity"),
        ({"as_of": "2026-13-01", "quantity": 1}, "as_of"),
        ({"as_of": "2026-03-01", "quantity": 1.5}, "quantity"),
        ({"as_of": "2026-03-01", "quantity": 1, "product_id": 2}, "product_id"),
    ):
        response = admin.put(url, json=payload)
        assert response.status_code == 422
        assert field in fields_of(response)
    assert (
        admin.put(
            "/api/v1/products/999/stock", json={"as_of": "2026-03-01", "quantity": 1}
        ).status_code
        == 404
    )
    assert snapshot(engine, StockLevel) == before
