"""Screen pop: when a call rings or is answered on a manager's extension, push the caller's
card to that manager's browser (``GET /api/v1/events/stream``).

The card is built at receipt, from what is stored when the webhook arrives, so it reaches
the browser without waiting for the processing job. It shows only what the manager may
read: a client outside their record scope appears as ``{"id": …, "visible": false}``.
Showing a card is a read of personal data and is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.audit import service as audit
from voronka.client import repository as client_repository
from voronka.db.session import unit_of_work
from voronka.integrations.telephony import repository
from voronka.integrations.telephony.base import CallEvent
from voronka.integrations.telephony.models import CallPhase
from voronka.integrations.telephony.service import phone_or_none
from voronka.live import Broker
from voronka.user.models import User

PHASES = {CallPhase.STARTED: "ringing", CallPhase.ANSWERED: "answered"}


def _actor(user: User) -> Actor:
    return Actor(user.id, user.workspace_id, user.role, user.team_id)


def card(session: Session, *, user: User, number: str | None) -> dict[str, Any] | None:
    """The card of the client holding ``number`` as ``user`` may see it (None: unknown)."""
    client = repository.client_with_phone(session, user.workspace_id, number) if number else None
    if client is None:
        return None
    actor = _actor(user)
    scope = scope_for(actor, "client", Action.READ)
    if scope is Scope.NONE or client_repository.get_visible(session, actor, scope, client.id) is None:
        return {"id": client.id, "visible": False}
    audit.record(session, actor, action="read", entity="client", entity_id=client.id,
                 detail={"via": "screen_pop"})
    return {
        "id": client.id,
        "visible": True,
        "name": client.name,
        "open_deals": [
            {"id": d.id, "title": d.title, "stage_id": d.stage_id, "amount": str(d.amount),
             "currency": d.currency}
            for d in repository.open_deals(session, client.id)
        ],
        "last_interactions": [
            {"id": a.id, "kind": a.kind.value, "subject": a.subject,
             "occurred_at": a.occurred_at.isoformat()}
            for a in repository.last_activities(session, client.id)
        ],
    }


def pop(engine: Engine, broker: Broker, *, workspace_id: int, provider: str,
        events: list[CallEvent]) -> int:
    """Publish a card for every ringing/answered event on a known extension; return how many."""
    targets = [e for e in events if e.phase in PHASES and e.extension]
    if not targets or not broker.listening():
        return 0
    sent = 0
    with unit_of_work(engine, write=False) as session:
        for event in targets:
            user_id = repository.user_for_extension(session, workspace_id, event.extension or "")
            user = session.get(User, user_id) if user_id else None
            local_only = broker.redis_url is None
            if user is None or not user.is_active or (local_only and not broker.subscribers(user.id)):
                continue
            number = phone_or_none(event.client_number)
            broker.publish(user.id, {
                "type": "call",
                "phase": PHASES[event.phase],
                "provider": provider,
                "call_id": event.call_id,
                "direction": event.direction.value,
                "number": number,
                "client": card(session, user=user, number=number),
            })
            sent += 1
    return sent
