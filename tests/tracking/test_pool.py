"""The dynamic number pool: a number per visit while it is active plus the hold time, the
default number (counted) when the pool is exhausted, and reservation_for for calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.tracking.support import DEFAULT_NUMBER, ORIGIN, POOL, Shop
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.campaign.models import Touchpoint, TouchpointKind
from voronka.client import service as client_service
from voronka.client.models import ContactKind
from voronka.client.schemas import ClientCreate, ContactIn
from voronka.db.session import unit_of_work
from voronka.jobs import enqueue, run_pending
from voronka.tracking import pool, service
from voronka.tracking.models import NumberReservation, Site, SiteVisit, SiteVisitor

SPRING = f"{ORIGIN}/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring"
A, B, C = "visitor-a-0000000001", "visitor-b-0000000002", "visitor-c-0000000003"


def ask(shop: Shop, visitor: str, url: str = f"{ORIGIN}/") -> dict:
    response = shop.ask_number(visitor=visitor, url=url)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    return dict(response.json())


def reservation(shop: Shop, number, at):
    with unit_of_work(shop.engine, write=False) as session:
        return pool.reservation_for(session, number, at)


def test_each_visit_gets_its_own_number_until_the_pool_is_exhausted(shop: Shop, frozen):
    first = ask(shop, A, SPRING)
    assert (first["number"], first["display"], first["pooled"]) == (
        POOL[0], "+7 495 000-01-01", True)
    hold = frozen.now + timedelta(minutes=15)  # VORONKA_TRACKING_NUMBER_HOLD_MINUTES
    assert first["held_until"].replace("Z", "+00:00") == hold.isoformat()
    assert ask(shop, A)["number"] == POOL[0]  # the same visit keeps its number
    assert ask(shop, B)["number"] == POOL[1]
    for _ in range(2):  # asked on two pages: one shortage
        exhausted = ask(shop, C)
        assert (exhausted["number"], exhausted["pooled"]) == (DEFAULT_NUMBER, False)
    with unit_of_work(shop.engine, write=False) as session:
        state = pool.status(session, workspace_id=1, since=frozen.now - timedelta(hours=1),
                            until=frozen.now + timedelta(seconds=1), now=frozen.now)
    assert (state.pool_size, state.in_use, state.free, state.reservations, state.fallbacks) == (
        2, 2, 0, 2, 1)


def test_a_number_is_released_after_the_hold_and_reused_longest_released_first(
    shop: Shop, frozen
):
    ask(shop, A)  # takes POOL[0] at t0
    frozen.advance(minutes=1)
    ask(shop, B)  # takes POOL[1] at t0 + 1 min
    frozen.advance(minutes=10)
    shop.hit("heartbeat", visitor=A, seconds=30)  # A active at t0 + 11 min: held to + 26 min
    assert ask(shop, C)["pooled"] is False
    frozen.advance(minutes=5)  # t0 + 16: B (last active t0 + 1) is released at t0 + 16
    assert ask(shop, C)["number"] == POOL[1]
    frozen.advance(minutes=30)  # everyone released; B's number was used later than A's
    assert ask(shop, "visitor-d-0000000004")["number"] == POOL[0]


def test_reservation_for_ties_a_call_to_the_visit_that_saw_the_number(shop: Shop, frozen):
    t0 = frozen.now
    assert ask(shop, A, SPRING)["number"] == POOL[0]
    assert ask(shop, B)["number"] == POOL[1]
    frozen.advance(minutes=20)  # A and B were last active at t0: both free from t0 + 15
    assert ask(shop, C)["number"] == POOL[0]  # released at the same time as POOL[1]: lower id
    with unit_of_work(shop.engine, write=False) as session:
        visit_a = session.scalar(select(SiteVisit).join(SiteVisitor).where(
            SiteVisitor.visitor_key == A))
        visit_a_id, number_id = visit_a.id, shop.numbers[POOL[0]]
    found = reservation(shop, number_id, t0 + timedelta(minutes=5))
    assert (found.visit_id, found.visitor_key, found.client_id) == (visit_a_id, A, None)
    assert (found.campaign_id, found.channel_id, found.utm_campaign) == (
        shop.campaigns["spring"], shop.channels["direct"], "spring")
    assert found.landing_page == SPRING
    # the dialled number in any format, at a time within C's reservation
    later = reservation(shop, "8 (495) 000-01-01", t0 + timedelta(minutes=21))
    assert later.visitor_key == C and later.campaign_id is None
    assert reservation(shop, number_id, t0 + timedelta(minutes=15, seconds=1)) is None  # gap
    assert reservation(shop, number_id, t0 - timedelta(seconds=1)) is None  # before any
    assert reservation(shop, "+74959999999", t0) is None  # not a tracking number
    assert reservation(shop, "not a phone", t0) is None


def test_the_site_default_number_is_shown_when_there_is_no_pool(shop: Shop, frozen):
    with unit_of_work(shop.engine) as session:
        site = session.get(Site, shop.site_id)
        site.default_number = None
        for number_id in shop.numbers.values():
            session.execute(NumberReservation.__table__.delete().where(
                NumberReservation.tracking_number_id == number_id))
    ask(shop, A)
    ask(shop, B)
    assert ask(shop, C) == {"number": None, "display": None, "pooled": False,
                            "held_until": None}


def test_two_visits_reserving_at_the_same_moment_get_different_numbers(
    shop: Shop, frozen, backend
):
    """The first transaction holds its number's row lock; the second skips that number."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the second would wait, not race")
    with unit_of_work(shop.engine) as s1, unit_of_work(shop.engine) as s2:
        numbers = []
        for session, visitor in ((s1, A), (s2, B)):
            site = session.get(Site, shop.site_id)
            who = service.visitor_for(session, site, visitor, frozen.now)
            visit = service.current_visit(
                session, site, who, service.Landing.of(f"{ORIGIN}/", None), frozen.now)
            numbers.append(pool.number_for(session, site=site, visit=visit, now=frozen.now).number)
            session.flush()
    assert numbers == POOL


def test_a_caller_is_linked_to_the_visit_that_saw_the_number(shop: Shop, frozen):
    """Call processing writes a call touchpoint with the visitor id reservation_for gave; the
    periodic job then links that browser to the caller and writes the visit with the client."""
    ask(shop, A, SPRING)
    call_at = frozen.advance(minutes=3)
    with unit_of_work(shop.engine) as session:
        caller = client_service.create(
            session, actor=Actor.system(1), scope=Scope.ALL, allow_duplicate=False,
            data=ClientCreate(name="+7 916 000-00-09", contacts=[
                ContactIn(kind=ContactKind.PHONE, value="+79160000009")]))
        found = pool.reservation_for(session, POOL[0], call_at, workspace_id=1)
        session.add(Touchpoint(  # what part A's call processing writes
            workspace_id=1, visitor_id=found.visitor_key, client_id=caller.id,
            kind=TouchpointKind.CALL, occurred_at=call_at, campaign_id=found.campaign_id,
            channel_id=found.channel_id, pages=0, seconds_on_site=0))
        caller_id = caller.id
    frozen.advance(minutes=30)
    with unit_of_work(shop.engine) as session:
        enqueue(session, "tracking.close_visits", {})
    assert run_pending(shop.engine) == 1
    [(visitor,)] = shop.rows(select(SiteVisitor))
    assert (visitor.client_id, visitor.linked_by, visitor.linked_at) == (caller_id, "call",
                                                                         call_at)
    [(visit_touch,)] = shop.rows(select(Touchpoint).where(
        Touchpoint.kind == TouchpointKind.VISIT))
    assert (visit_touch.client_id, visit_touch.visitor_id, visit_touch.campaign_id) == (
        caller_id, A, shop.campaigns["spring"])
