"""Where call processing writes: at once, through the domain services (:class:`Immediate`),
or kept for one multi-row write per table at the end of a batch (``telephony.batch``).

``service.apply`` decides what a call event changes and hands every new row and every
change to a writer; the rules are the same whichever writer takes them.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.activity import service as activity_service
from voronka.activity.models import Activity
from voronka.activity.schemas import ActivityCreate, ActivityUpdate
from voronka.campaign.models import Touchpoint
from voronka.client import service as client_service
from voronka.client.models import Client
from voronka.client.schemas import ClientCreate
from voronka.deal import service as deal_service
from voronka.deal.schemas import DealCreate
from voronka.integrations.telephony.models import TelephonyCall


class Writes(Protocol):
    """What call processing writes; every method applies the domain's rules."""

    def client(self, actor: Actor, data: ClientCreate) -> Client: ...

    def lead_deal(self, actor: Actor, data: DealCreate) -> int: ...

    def activity(self, actor: Actor, data: ActivityCreate) -> Activity: ...

    def get_activity(self, activity_id: int) -> Activity | None: ...

    def touchpoint(self, touchpoint: Touchpoint) -> int: ...

    def call(self, call: TelephonyCall) -> None: ...

    def update_activity(self, actor: Actor, activity: Activity, data: ActivityUpdate) -> None: ...

    def flush(self) -> None: ...


class Immediate:
    """Write each row now through the domain services (one event at a time)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def client(self, actor: Actor, data: ClientCreate) -> Client:
        return client_service.create(
            self.session, actor=actor, scope=Scope.ALL, data=data, allow_duplicate=False
        )

    def lead_deal(self, actor: Actor, data: DealCreate) -> int:
        return deal_service.create(self.session, actor=actor, scope=Scope.ALL, data=data).id

    def activity(self, actor: Actor, data: ActivityCreate) -> Activity:
        activity, _ = activity_service.create(self.session, actor=actor, scope=Scope.ALL, data=data)
        return activity

    def get_activity(self, activity_id: int) -> Activity | None:
        return self.session.get(Activity, activity_id)

    def touchpoint(self, touchpoint: Touchpoint) -> int:
        self.session.add(touchpoint)
        self.session.flush()
        return touchpoint.id

    def call(self, call: TelephonyCall) -> None:
        self.session.add(call)
        self.session.flush()

    def update_activity(self, actor: Actor, activity: Activity, data: ActivityUpdate) -> None:
        activity_service.update(
            self.session, actor=actor, scope=Scope.ALL, activity=activity, data=data
        )

    def flush(self) -> None:
        self.session.flush()
