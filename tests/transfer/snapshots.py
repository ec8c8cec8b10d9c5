"""What the import tests compare: stored clients and deals without their ids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

from voronka.audit.models import AuditEvent
from voronka.client.models import Client
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStageChange
from voronka.pipeline.models import Stage
from voronka.user.models import User


def clients_in(session: Session) -> list[tuple[Any, ...]]:
    """(name, kind, contacts, tags, owner e-mail, company name, version) sorted."""
    users = dict(session.execute(select(User.id, User.email)).all())
    clients = session.scalars(
        select(Client)
        .options(selectinload(Client.contacts), selectinload(Client.tags))
        .order_by(Client.id)
    ).all()
    names = {c.id: c.name for c in clients}
    return sorted(
        (
            c.name,
            c.kind.value,
            tuple(sorted((p.kind.value, p.value, p.is_primary) for p in c.contacts)),
            tuple(t.tag for t in c.tags),
            users.get(c.owner_id),
            names.get(c.company_id),
            c.version,
        )
        for c in clients
    )


def deals_in(session: Session) -> list[tuple[Any, ...]]:
    """(title, client name, stage, amount, currency, owner, created_at, history) sorted."""
    users = dict(session.execute(select(User.id, User.email)).all())
    stages = dict(session.execute(select(Stage.id, Stage.name)).all())
    clients = dict(session.execute(select(Client.id, Client.name)).all())
    history: dict[int, list[tuple[Any, ...]]] = {}
    for change in session.scalars(select(DealStageChange).order_by(DealStageChange.id)):
        history.setdefault(change.deal_id, []).append(
            (stages.get(change.from_stage_id), stages[change.to_stage_id], change.changed_at)
        )
    return sorted(
        (
            d.title,
            clients[d.client_id],
            stages[d.stage_id],
            d.status.value,
            d.amount,
            d.currency,
            users.get(d.owner_id),
            d.created_at,
            d.closed_at,
            tuple(history.get(d.id, [])),
            d.version,
        )
        for d in session.scalars(select(Deal).order_by(Deal.id))
    )


def clients(engine: Engine) -> list[tuple[Any, ...]]:
    with unit_of_work(engine, write=False) as session:
        return clients_in(session)


def deals(engine: Engine) -> list[tuple[Any, ...]]:
    with unit_of_work(engine, write=False) as session:
        return deals_in(session)


def audit_events(engine: Engine, action: str) -> list[AuditEvent]:
    with unit_of_work(engine, write=False) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def count(engine: Engine, model: Any) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0
