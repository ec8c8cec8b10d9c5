"""Bulk product import: matched by SKU, groups created by name, prices exact in minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.transfer.files import write_csv
from voronka.db.session import unit_of_work
from voronka.errors import Forbidden, InvalidInput
from voronka.order.models import Product, ProductGroup
from voronka.transfer.options import ImportMode, OnDuplicate


def catalogue(engine):
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(Product.sku, Product.name, ProductGroup.name, Product.price,
                   Product.cost_price, Product.currency, Product.unit, Product.version)
            .outerjoin(ProductGroup, ProductGroup.id == Product.group_id).order_by(Product.sku)
        ).all()
    return [tuple(r) for r in rows]


def test_products_are_created_then_skipped_or_updated_by_sku(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "p.csv", [
        ["Артикул", "Наименование", "Категория", "Цена", "Себестоимость", "Ед. изм."],
        ["A-1", "Чайник", "Кухня", "1 990,50", "1200", "шт"],
        ["B-2", "Кружка", "Кухня", "350", "", ""],
        ["C-3", "Плед", "", "2 500,00", "1 700,10", ""],
    ], delimiter=";")
    run = bulk_import(path, "products", who="H")
    assert (run.total, run.created, run.duplicates, run.failed) == (3, 3, 0, 0)
    assert catalogue(engine) == [
        ("A-1", "Чайник", "Кухня", Decimal("1990.50"), Decimal("1200.00"), "RUB", "шт", 1),
        ("B-2", "Кружка", "Кухня", Decimal("350.00"), Decimal("0.00"), "RUB", "pcs", 1),
        ("C-3", "Плед", None, Decimal("2500.00"), Decimal("1700.10"), "RUB", "pcs", 1),
    ]
    again = bulk_import(path, "products")
    assert (again.created, again.duplicates) == (0, 3)
    changed = write_csv(tmp_path / "p2.csv", [
        ["sku", "name", "group", "price"],
        ["A-1", "Чайник", "Кухня", "1790.50"],   # new price: updated, version 2
        ["B-2", "Кружка", "Кухня", "350"],       # the same: left alone
        ["D-4", "Свеча", "Декор", "99.90"],      # new, in a new group
    ])
    update = bulk_import(changed, "products", on_duplicate=OnDuplicate.UPDATE)
    assert (update.created, update.updated, update.duplicates) == (1, 1, 1)
    rows = {sku: rest for sku, *rest in catalogue(engine)}
    assert rows["A-1"][2] == Decimal("1790.50") and rows["A-1"][-1] == 2
    assert rows["B-2"][-1] == 1
    assert rows["D-4"][1] == "Декор"


def test_bad_product_rows(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "p.csv", [
        ["sku", "name", "price", "currency"],
        ["A-1", "Чайник", "12.345", "RUB"],
        ["A-2", "", "10", "RUB"],
        ["A-3", "Кружка", "-1", "RUB"],
        ["A-4", "Плед", "10", "рубли"],
        ["A-5", "Плед", "", "RUB"],
        ["A-6", "Свеча", "10", "RUB"],
        ["A-6", "Свеча 2", "11", "RUB"],
    ])
    run = bulk_import(path, "products", mode=ImportMode.PER_ROW)
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (2, "price", "at most two decimal places"),
        (3, "name", "required"),
        (4, "price", "must not be negative"),
        (5, "currency", "currency must be a three-letter ISO code such as RUB"),
        (6, "price", "required"),
        (8, "sku", "the same SKU is on row 7 of the file"),
    ]
    assert [sku for sku, *_ in catalogue(engine)] == ["A-6"]
    with pytest.raises(InvalidInput):
        bulk_import(path, "products", on_duplicate=OnDuplicate.CREATE)


def test_managers_may_not_import_products(engine, people, bulk_import, tmp_path):
    path = write_csv(tmp_path / "p.csv", [["sku", "name", "price"], ["A", "B", "1"]])
    with pytest.raises(Forbidden):
        bulk_import(path, "products", who="M1")
    assert catalogue(engine) == []
