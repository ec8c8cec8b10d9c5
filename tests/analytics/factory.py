"""Tiny, readable analytic datasets written through the ORM.

Times are given in company local time (Europe/Moscow, UTC+3) as ``"2026-03-02 10:00"`` and
stored in UTC, so a test reads like a calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from voronka.activity.models import Activity, ActivityKind, CallStatus, Direction
from voronka.campaign.models import (
    AdSpend,
    Campaign,
    Channel,
    ChannelKind,
    Touchpoint,
    TouchpointKind,
)
from voronka.client.models import Client, ClientKind
from voronka.deal.models import Deal, DealStageChange, DealStatus
from voronka.order.models import Order, OrderLine, OrderStatus, Product, ProductGroup
from voronka.pipeline.models import Pipeline, Stage, StageKind
from voronka.support.models import Feedback, FeedbackKind
from voronka.user.models import Role, Team, User
from voronka.workspace.models import Workspace

MSK = timedelta(hours=3)


def at(local: str) -> datetime:
    """A Moscow wall-clock time as an aware UTC datetime."""
    return (datetime.fromisoformat(local) - MSK).replace(tzinfo=UTC)


@dataclass
class World:
    """A small company: ids of what the builders created, by readable name."""

    session: Session
    users: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)
    clients: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    pipeline_id: int = 0
    _numbers: int = 0

    def add(self, row):  # type: ignore[no-untyped-def]
        self.session.add(row)
        self.session.flush()
        return row

    def user(self, name: str, role: Role = Role.SALES_MANAGER, team: int | None = None) -> int:
        self.users[name] = self.add(User(workspace_id=1, email=f"{name}@example.test",
                                         name=name, role=role, team_id=team)).id
        return self.users[name]

    def channel(self, slug: str, paid: bool = True) -> int:
        self.channels[slug] = self.add(Channel(
            workspace_id=1, slug=slug, name=slug.title(),
            kind=ChannelKind.PAID_SEARCH if paid else ChannelKind.ORGANIC, is_paid=paid)).id
        return self.channels[slug]

    def campaign(self, name: str, channel: str) -> int:
        self.campaigns[name] = self.add(Campaign(
            workspace_id=1, channel_id=self.channels[channel], name=name,
            utm_source=channel, utm_campaign=name)).id
        return self.campaigns[name]

    def client(self, name: str, owner: str | None = None, channel: str | None = None) -> int:
        self.clients[name] = self.add(Client(
            workspace_id=1, kind=ClientKind.PERSON, name=name, search_text=name.lower(),
            owner_id=self.users[owner] if owner else None,
            source_channel_id=self.channels[channel] if channel else None)).id
        return self.clients[name]

    def deal(self, client: str, created: str, path: list[tuple[str, str]] = (),  # type: ignore[assignment]
             owner: str | None = None, channel: str | None = None,
             campaign: str | None = None, amount: str = "0") -> int:
        """A deal created at ``created`` in stage "new" that then moves along ``path``."""
        stage, entered = "new", at(created)
        deal = self.add(Deal(
            workspace_id=1, title=f"{client} deal", client_id=self.clients[client],
            pipeline_id=self.pipeline_id, stage_id=self.stages["new"],
            owner_id=self.users[owner] if owner else None, amount=Decimal(amount),
            channel_id=self.channels[channel] if channel else None,
            campaign_id=self.campaigns[campaign] if campaign else None,
            stage_entered_at=entered, created_at=entered, updated_at=entered))
        self.add(DealStageChange(workspace_id=1, deal_id=deal.id, from_stage_id=None,
                                 to_stage_id=self.stages["new"], changed_at=entered))
        for target, when in path:
            self.add(DealStageChange(workspace_id=1, deal_id=deal.id,
                                     from_stage_id=self.stages[stage],
                                     to_stage_id=self.stages[target], changed_at=at(when)))
            stage, entered = target, at(when)
        deal.stage_id, deal.stage_entered_at = self.stages[stage], entered
        deal.status = {"won": DealStatus.WON, "lost": DealStatus.LOST}.get(stage, DealStatus.OPEN)
        deal.closed_at = entered if stage in ("won", "lost") else None
        return deal.id

    def product(self, sku: str, price: str, cost: str = "0", group: str | None = None) -> int:
        if group and group not in self.groups:
            self.groups[group] = self.add(ProductGroup(workspace_id=1, name=group)).id
        self.products[sku] = self.add(Product(
            workspace_id=1, sku=sku, name=sku, price=Decimal(price), cost_price=Decimal(cost),
            group_id=self.groups.get(group) if group else None)).id
        return self.products[sku]

    def order(self, client: str, paid: str | None, lines: list[tuple[str, int, str]],
              status: OrderStatus = OrderStatus.PAID, owner: str | None = None,
              deal: int | None = None, created: str | None = None,
              channel: str | None = None, campaign: str | None = None) -> int:
        """An order of ``(sku, quantity, unit price)`` lines, paid at ``paid`` (local);
        ``channel``/``campaign`` name the order's own source (as an imported order may)."""
        self._numbers += 1
        total = sum(Decimal(price) * qty for _, qty, price in lines)
        cost = sum(self.session.get(Product, self.products[sku]).cost_price * qty
                   for sku, qty, _ in lines)
        when = at(created or paid or "2026-01-01 00:00")
        order = self.add(Order(
            workspace_id=1, number=f"N{self._numbers}", client_id=self.clients[client],
            owner_id=self.users[owner] if owner else None, status=status, total=total,
            cost_total=cost, paid_at=at(paid) if paid else None, deal_id=deal,
            channel_id=self.channels[channel] if channel else None,
            campaign_id=self.campaigns[campaign] if campaign else None,
            created_at=when, updated_at=when))
        for sku, qty, price in lines:
            product = self.session.get(Product, self.products[sku])
            self.add(OrderLine(workspace_id=1, order_id=order.id, product_id=product.id,
                               quantity=qty, unit_price=Decimal(price),
                               unit_cost=product.cost_price))
        return order.id

    def spend(self, campaign: str, day: str, cost: str, clicks: int = 0) -> None:
        self.add(AdSpend(workspace_id=1, campaign_id=self.campaigns[campaign],
                         day=date.fromisoformat(day), cost=Decimal(cost), clicks=clicks))

    def visit(self, visitor: str, when: str, channel: str | None = None,
              client: str | None = None, pages: int = 1, seconds: int = 30) -> None:
        self.add(Touchpoint(workspace_id=1, visitor_id=visitor, kind=TouchpointKind.VISIT,
                            occurred_at=at(when), pages=pages, seconds_on_site=seconds,
                            channel_id=self.channels[channel] if channel else None,
                            client_id=self.clients[client] if client else None))

    def call(self, when: str, status: CallStatus, owner: str | None = None,
             direction: Direction = Direction.INBOUND, wait: int = 0, talk: int = 0,
             client: str | None = None) -> None:
        self.add(Activity(workspace_id=1, kind=ActivityKind.CALL, direction=direction,
                          call_status=status, occurred_at=at(when), queued_at=at(when),
                          wait_seconds=wait, talk_seconds=talk,
                          owner_id=self.users[owner] if owner else None,
                          client_id=self.clients[client] if client else None))

    def feedback(self, client: str, kind: FeedbackKind, score: int, when: str) -> None:
        self.add(Feedback(workspace_id=1, client_id=self.clients[client], kind=kind,
                          score=score, created_at=at(when), updated_at=at(when)))


def new_world(session: Session) -> World:
    """Workspace 1, team T with two managers, a pipeline new → qualified → won/lost."""
    session.add(Workspace(id=1, name="Test", timezone="Europe/Moscow", currency="RUB"))
    session.flush()
    world = World(session)
    team = world.add(Team(workspace_id=1, name="T")).id
    world.user("anna", team=team)
    world.user("boris", team=team)
    pipeline = world.add(Pipeline(workspace_id=1, name="Sales", is_default=True))
    world.pipeline_id = pipeline.id
    for position, (name, kind) in enumerate(
        [("new", StageKind.OPEN), ("qualified", StageKind.OPEN), ("proposal", StageKind.OPEN),
         ("won", StageKind.WON), ("lost", StageKind.LOST)]
    ):
        world.stages[name] = world.add(Stage(workspace_id=1, pipeline_id=pipeline.id,
                                             name=name, position=position, kind=kind)).id
    return world


def build(engine: Engine, populate) -> World:  # type: ignore[no-untyped-def]
    """Create a world, let ``populate(world)`` add facts, commit; return the ids."""
    from voronka.db.session import unit_of_work

    with unit_of_work(engine) as session:
        world = new_world(session)
        populate(world)
    return world
