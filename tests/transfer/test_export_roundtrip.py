"""Export → bulk import into an empty workspace → the same records (RELIABILITY 41).

Every entity of tests/transfer/export_world.py is exported (CSV and XLSX), the store is
emptied and only the users, the pipeline "Sales" and the channel "yandex" are made again —
reference data the files name — and the files go back through the bulk importers in the
order a move would take: clients, products, touchpoints, activities, orders, deals. The
records are then compared by what they hold (names, contacts, times, money, history), not by
their ids, which a new workspace gives anew.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import empty_tables
from tests.fixtures import seed_cast
from tests.pipeline.sample import create_pipeline
from tests.transfer import export_world, snapshots
from tests.transfer.conftest import create_bulk_run
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.activity.models import Activity
from voronka.campaign.models import Channel, ChannelKind, Touchpoint
from voronka.client.models import Client, ContactPoint
from voronka.db.session import unit_of_work
from voronka.order.models import Order, Product, ProductGroup
from voronka.transfer import exporter
from voronka.transfer.bulk import runner
from voronka.transfer.exporter import ExportEntity
from voronka.transfer.reading import FileFormat
from voronka.user.models import User

E = ExportEntity
#: import order: what a file names must exist first (clients before their orders…)
MOVES = [
    (E.CLIENTS, "clients"),
    (E.PRODUCTS, "products"),
    (E.TOUCHPOINTS, "touchpoints"),
    (E.ACTIVITIES, "activities"),
    (E.ORDERS, "orders"),
    (E.DEALS, "deals"),
]


def holdings(engine) -> dict[str, Any]:
    """Every record of the moved entities by its content (no ids)."""
    with unit_of_work(engine, write=False) as session:
        users = dict(session.execute(select(User.id, User.email)).all())
        names = dict(session.execute(select(Client.id, Client.name)).all())
        slugs = dict(session.execute(select(Channel.id, Channel.slug)).all())
        groups = dict(session.execute(select(ProductGroup.id, ProductGroup.name)).all())
        skus = dict(session.execute(select(Product.id, Product.sku)).all())
        products = sorted(
            (p.sku, p.name, groups.get(p.group_id), p.price, p.cost_price, p.currency, p.unit)
            for p in session.scalars(select(Product))
        )
        touchpoints = sorted(
            (t.occurred_at, t.kind.value, t.visitor_id, names.get(t.client_id),
             slugs.get(t.channel_id), t.utm_source, t.utm_medium, t.utm_campaign, t.referrer,
             t.landing_page, t.pages, t.seconds_on_site)
            for t in session.scalars(select(Touchpoint))
        )  # fmt: skip
        activities = sorted(
            (a.kind.value, a.occurred_at, names.get(a.client_id), users.get(a.owner_id),
             a.subject, a.body, a.external_id, a.direction, a.call_status, a.wait_seconds,
             a.talk_seconds, a.due_at)
            for a in session.scalars(select(Activity))
        )  # fmt: skip
        orders = sorted(
            (o.number, names[o.client_id], o.status.value, o.total, o.cost_total, o.currency,
             o.created_at, o.paid_at, users.get(o.owner_id),
             tuple((skus[ln.product_id], ln.quantity, ln.unit_price, ln.unit_cost)
                   for ln in o.lines))
            for o in session.scalars(select(Order))
        )  # fmt: skip
        contacts = session.scalar(select(ContactPoint.id).limit(1))
    return {
        "clients": snapshots.clients(engine),
        "products": products,
        "touchpoints": touchpoints,
        "activities": activities,
        "orders": orders,
        "deals": [deal[:-1] for deal in snapshots.deals(engine)],  # all but the version
        "any contacts": contacts is not None,
    }


def empty_workspace(engine) -> None:
    """A new workspace: the same users, pipeline and channel, no records."""
    empty_tables(engine)
    cast = seed_cast(engine)
    with unit_of_work(engine) as session:
        session.query(ContactPoint).delete()
        session.query(Client).delete()
        session.add(Channel(workspace_id=1, slug="yandex", name="Яндекс",
                            kind=ChannelKind.PAID_SEARCH))  # fmt: skip
    create_pipeline(cast)
    for client in cast._http.values():
        client.close()


def bulk_import(engine, path: Path, entity: str):
    run_id = create_bulk_run(engine, path, entity, Actor.system())
    return runner.execute(engine, run_id, actor=Actor.system())


@pytest.mark.parametrize("file_format", list(FileFormat))
def test_every_export_imports_back_into_an_empty_workspace(
    engine, people, sales, tmp_path, file_format
):
    export_world.build(engine, people, sales)
    before = holdings(engine)
    files = {}
    for entity, _ in MOVES:
        path = tmp_path / f"{entity.value}.{file_format.value}"
        with unit_of_work(engine, write=False) as session, path.open("wb") as target:
            exporter.write(session, actor=Actor.system(), scope=Scope.ALL, entity=entity,
                           file_format=file_format, target=target)  # fmt: skip
        files[entity] = path

    empty_workspace(engine)
    assert holdings(engine)["clients"] == []
    for entity, name in MOVES:
        run = bulk_import(engine, files[entity], name)
        assert (run.failed, run.errors) == (0, []), (entity, run.errors)
        assert run.created == run.total, entity

    after = holdings(engine)
    for name in ("clients", "products", "touchpoints", "activities", "orders", "deals"):
        assert after[name] == before[name], name
