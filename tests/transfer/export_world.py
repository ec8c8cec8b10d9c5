"""A small world of every exported entity, stored directly, with hand-known values.

The cast (tests/fixtures.py): M1 owns C1, M2 owns C2 (team T1, head H); M3 owns C3 (team T2).
Added here, all at known UTC times (the workspace zone is Europe/Moscow, UTC+3):

* company "Ромашка" (M1) with its contact person "Анна" (M1, phone +79995550001, e-mail
  anna@example.ru, tags "опт", "vip", source channel "yandex"); C1 gets a second phone.
* products A-1 "Чайник" (group "Кухня", 1 990.50 / cost 1 200.00) and B-2 named like a
  formula, 0.10 each.
* deals: "Поставка" of C1 (New → Qualified, 1 000.00, M1) and "=SUM(A1)" of C3 (New at T1,
  Won and closed at T2; M3), in pipeline "Sales".
* orders: O-1 of C1 (paid, M1; new at T0, paid at T1): 2 × A-1 at 1 990.50 and 3 × B-2 at
  0.10 = 3 981.30; O-2 of C3 (new at T1, M3): 1 × A-1.
* activities: a call of C1 (M1) with a formula-like subject, a note of C3 (M3).
* touchpoints: a visit of C1 from "yandex", an ad click of an unknown visitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from voronka.activity.models import Activity, ActivityKind, CallStatus, Direction
from voronka.campaign.models import Channel, ChannelKind, Touchpoint, TouchpointKind
from voronka.client.models import Client, ClientKind, ClientTag, ContactKind, ContactPoint
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStageChange, DealStatus
from voronka.order.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Product,
    ProductGroup,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
T1 = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # 18:30 in Moscow
T2 = datetime(2026, 4, 1, 6, 0, 0, 250000, tzinfo=UTC)  # a fraction of a second
FORMULA_NAME = '=HYPERLINK("http://evil.example","x")'


@dataclass
class World:
    company: int
    anna: int
    deal_c1: int
    deal_c3: int
    products: dict[str, int]


def build(engine, people, sales) -> World:  # type: ignore[no-untyped-def]
    users, clients = people.users, people.clients
    with unit_of_work(engine) as session:
        yandex = Channel(workspace_id=1, slug="yandex", name="Яндекс", kind=ChannelKind.PAID_SEARCH)
        session.add(yandex)
        company = Client(
            workspace_id=1,
            kind=ClientKind.COMPANY,
            name="Ромашка",
            owner_id=users["M1"],
            created_at=T0,
        )
        session.add(company)
        session.flush()
        anna = Client(
            workspace_id=1,
            kind=ClientKind.PERSON,
            name="Анна",
            company_id=company.id,
            job_title="Закупщик",
            owner_id=users["M1"],
            source_channel_id=yandex.id,
            created_at=T1,
        )
        anna.contacts += [
            ContactPoint(
                workspace_id=1, kind=ContactKind.PHONE, value="+79995550001", is_primary=True
            ),
            ContactPoint(
                workspace_id=1, kind=ContactKind.EMAIL, value="anna@example.ru", is_primary=True
            ),
        ]
        anna.tags += [ClientTag(workspace_id=1, tag="опт"), ClientTag(workspace_id=1, tag="vip")]
        session.add(anna)
        session.add(
            ContactPoint(
                workspace_id=1,
                client_id=clients["C1"],
                kind=ContactKind.PHONE,
                value="+79990000011",
                is_primary=False,
            )
        )

        kitchen = ProductGroup(workspace_id=1, name="Кухня")
        session.add(kitchen)
        session.flush()
        kettle = Product(
            workspace_id=1,
            sku="A-1",
            name="Чайник",
            group_id=kitchen.id,
            price=Decimal("1990.50"),
            cost_price=Decimal("1200.00"),
            currency="RUB",
            unit="шт",
            created_at=T0,
        )
        trick = Product(
            workspace_id=1,
            sku="B-2",
            name=FORMULA_NAME,
            price=Decimal("0.10"),
            cost_price=Decimal("0.00"),
            currency="RUB",
            unit="pcs",
            created_at=T1,
        )
        session.add_all([kettle, trick])
        session.flush()

        stages = sales.stages
        deal_c1 = Deal(
            workspace_id=1,
            title="Поставка",
            client_id=clients["C1"],
            pipeline_id=sales.id,
            stage_id=stages["Qualified"],
            status=DealStatus.OPEN,
            owner_id=users["M1"],
            amount=Decimal("1000.00"),
            currency="RUB",
            stage_entered_at=T1,
            created_at=T0,
        )
        deal_c3 = Deal(
            workspace_id=1,
            title="=SUM(A1)",
            client_id=clients["C3"],
            pipeline_id=sales.id,
            stage_id=stages["Won"],
            status=DealStatus.WON,
            owner_id=users["M3"],
            amount=Decimal("5.00"),
            currency="RUB",
            stage_entered_at=T2,
            closed_at=T2,
            created_at=T1,
        )
        session.add_all([deal_c1, deal_c3])
        session.flush()
        session.add_all(
            [
                DealStageChange(
                    workspace_id=1,
                    deal_id=deal_c1.id,
                    from_stage_id=None,
                    to_stage_id=stages["New"],
                    changed_at=T0,
                    changed_by_id=users["M1"],
                ),
                DealStageChange(
                    workspace_id=1,
                    deal_id=deal_c1.id,
                    from_stage_id=stages["New"],
                    to_stage_id=stages["Qualified"],
                    changed_at=T1,
                    changed_by_id=users["M1"],
                ),
                DealStageChange(
                    workspace_id=1,
                    deal_id=deal_c3.id,
                    from_stage_id=None,
                    to_stage_id=stages["New"],
                    changed_at=T1,
                    changed_by_id=None,
                ),
                DealStageChange(
                    workspace_id=1,
                    deal_id=deal_c3.id,
                    from_stage_id=stages["New"],
                    to_stage_id=stages["Won"],
                    changed_at=T2,
                    changed_by_id=users["M3"],
                ),
            ]
        )

        paid = Order(
            workspace_id=1,
            number="O-1",
            client_id=clients["C1"],
            owner_id=users["M1"],
            status=OrderStatus.PAID,
            total=Decimal("3981.30"),
            cost_total=Decimal("2400.00"),
            currency="RUB",
            paid_at=T1,
            created_at=T0,
        )
        paid.lines += [
            OrderLine(
                workspace_id=1,
                product_id=kettle.id,
                quantity=2,
                unit_price=Decimal("1990.50"),
                unit_cost=Decimal("1200.00"),
            ),
            OrderLine(
                workspace_id=1,
                product_id=trick.id,
                quantity=3,
                unit_price=Decimal("0.10"),
                unit_cost=Decimal("0.00"),
            ),
        ]
        fresh = Order(
            workspace_id=1,
            number="O-2",
            client_id=clients["C3"],
            owner_id=users["M3"],
            status=OrderStatus.NEW,
            total=Decimal("1990.50"),
            cost_total=Decimal("1200.00"),
            currency="RUB",
            created_at=T1,
        )
        fresh.lines.append(
            OrderLine(
                workspace_id=1,
                product_id=kettle.id,
                quantity=1,
                unit_price=Decimal("1990.50"),
                unit_cost=Decimal("1200.00"),
            )
        )
        session.add_all([paid, fresh])
        session.flush()
        session.add_all(
            [
                OrderStatusChange(
                    workspace_id=1,
                    order_id=paid.id,
                    from_status=None,
                    to_status=OrderStatus.NEW,
                    changed_at=T0,
                ),
                OrderStatusChange(
                    workspace_id=1,
                    order_id=paid.id,
                    from_status=OrderStatus.NEW,
                    to_status=OrderStatus.PAID,
                    changed_at=T1,
                ),
                OrderStatusChange(
                    workspace_id=1,
                    order_id=fresh.id,
                    from_status=None,
                    to_status=OrderStatus.NEW,
                    changed_at=T1,
                ),
            ]
        )

        session.add_all(
            [
                Activity(
                    workspace_id=1,
                    kind=ActivityKind.CALL,
                    client_id=clients["C1"],
                    owner_id=users["M1"],
                    subject="+7 перезвонить",
                    body="@все: цена",
                    occurred_at=T0,
                    external_id="call-1",
                    direction=Direction.INBOUND,
                    call_status=CallStatus.ANSWERED,
                    wait_seconds=5,
                    talk_seconds=125,
                ),
                Activity(
                    workspace_id=1,
                    kind=ActivityKind.NOTE,
                    client_id=clients["C3"],
                    owner_id=users["M3"],
                    subject="Заметка",
                    body="-10% скидка",
                    occurred_at=T1,
                ),
            ]
        )
        session.add_all(
            [
                Touchpoint(
                    workspace_id=1,
                    client_id=clients["C1"],
                    visitor_id="v-1",
                    kind=TouchpointKind.VISIT,
                    occurred_at=T0,
                    channel_id=yandex.id,
                    utm_source="yandex",
                    utm_medium="cpc",
                    utm_campaign="spring",
                    referrer="https://ya.ru/",
                    landing_page="https://shop.example/?a=1",
                    pages=3,
                    seconds_on_site=95,
                ),
                Touchpoint(
                    workspace_id=1,
                    client_id=None,
                    visitor_id="=v-2",
                    kind=TouchpointKind.AD_CLICK,
                    occurred_at=T2,
                    pages=0,
                    seconds_on_site=0,
                ),
            ]
        )
        session.flush()
        return World(
            company.id, anna.id, deal_c1.id, deal_c3.id, {"A-1": kettle.id, "B-2": trick.id}
        )
