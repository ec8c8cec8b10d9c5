"""The tracker's public entry points: a hit (stored raw, then applied) and a number ask.

Everything is checked before anything is written: the user agent, the payload shape and the
JavaScript signals (:mod:`voronka.tracking.guard`), the site key and its allowed origins.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from voronka.db.session import unit_of_work
from voronka.errors import BadRequest, ErrorDetail
from voronka.integrations import intake
from voronka.integrations.inbound import InboundEvent
from voronka.tracking import guard, pool, service
from voronka.tracking.schemas import Hit, HitType, NumberAsk, NumberOut

PROVIDER = "tracker"
HANDLER = "tracking.process_hit"


def _idempotency_key(site_id: int, hit: Hit) -> str:
    """Same hit, same key: a retried beacon is stored and counted once."""
    detail = {
        HitType.PAGEVIEW: "",
        HitType.HEARTBEAT: str(hit.seconds),
        HitType.LEAVE: str(hit.seconds),
        HitType.GOAL: hit.event or hit.goal or "",
    }[hit.type]
    return f"{site_id}:{hit.visitor}:{hit.view}:{hit.type.value}:{detail}"


def parse_hit(body: bytes, user_agent: str | None) -> Hit:
    """The hit, or a 400 naming what is wrong (bots included)."""
    guard.check_agent(user_agent)
    hit = guard.parse(body, Hit)
    if (hit.type is HitType.GOAL) != (hit.goal is not None):
        raise BadRequest(
            "goal: required for hits of type goal, and only for them",
            [ErrorDetail("required for type goal, and only for it", field="goal")],
        )
    return hit


def receive_hit(
    engine: Engine,
    *,
    hit: Hit,
    body: bytes,
    origin: str | None,
    headers: Mapping[str, str],
) -> intake.Outcome:
    """Check the site and origin, store the hit raw, then apply it to the visit."""
    site = service.cached_site(hit.site)
    if site is not None:
        service.check_site(site, origin_header=origin, url=hit.url)
    else:
        with unit_of_work(engine, write=False) as session:
            site = service.site_for(session, hit.site, origin_header=origin, url=hit.url)
    return intake.receive(
        engine,
        workspace_id=site.workspace_id,
        provider=PROVIDER,
        kind=hit.type.value,
        external_id=_idempotency_key(site.id, hit),
        body=body.decode(),
        headers=headers,
        content_type="application/json",
        processor=process_hit,
        handler=HANDLER,
    )


def process_hit(session: Session, event: InboundEvent) -> dict[str, Any]:
    """Apply a stored hit at the time it was received."""
    hit = guard.parse(event.body.encode(), Hit)
    visit = service.record_hit(session, hit=hit, origin_header=None, now=event.received_at)
    return {"visit_id": visit.id if visit else None}


def ask_number(
    session: Session, *, ask: NumberAsk, origin: str | None, now: datetime
) -> NumberOut:
    """The number to show on this page, reserving a pool number for the visit."""
    site = service.site_for(session, ask.site, origin_header=origin, url=ask.url)
    visitor = service.visitor_for(session, site, ask.visitor, now)
    landing = service.Landing.of(ask.url, ask.referrer)
    visit = service.current_visit(session, site, visitor, landing, now)
    visit.last_activity_at = max(visit.last_activity_at, now)
    return pool.number_for(session, site=site, visit=visit, now=now)
