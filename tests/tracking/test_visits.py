"""Visits from tracker hits: pages, visible seconds, UTM campaign, the 30-minute rule, goals,
redelivered beacons, and the touchpoint each finished visit becomes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.tracking.support import ORIGIN, VISITOR, Shop
from voronka.campaign.models import Touchpoint, TouchpointKind
from voronka.db.session import unit_of_work
from voronka.integrations.inbound import InboundEvent
from voronka.jobs import enqueue, run_pending
from voronka.tracking.models import SiteGoal, SitePageView, SiteVisit, SiteVisitor

SPRING = f"{ORIGIN}/sale?utm_source=yandex&utm_medium=cpc&utm_campaign=spring&utm_term=sofa"


def visits(shop: Shop) -> list[tuple]:
    return [
        (r.pages, r.seconds_on_site, r.campaign_id, r.channel_id, r.utm_campaign, r.ended_at)
        for (r,) in shop.rows(select(SiteVisit).order_by(SiteVisit.id))
    ]


def close_idle(shop: Shop) -> None:
    """Run the periodic job that writes the touchpoints of idle visits."""
    with unit_of_work(shop.engine) as session:
        enqueue(session, "tracking.close_visits", {})
    assert run_pending(shop.engine) == 1


def test_a_visit_counts_pages_and_visible_seconds_and_becomes_a_touchpoint(shop: Shop, frozen):
    start = frozen.now
    assert shop.hit(url=SPRING, referrer="https://yandex.ru/search").status_code == 202
    frozen.advance(seconds=15)
    assert shop.hit("heartbeat", url=SPRING, seconds=15).status_code == 202
    frozen.advance(seconds=25)  # t = 40 s: a second page
    assert shop.hit(view="view-0002", url=f"{ORIGIN}/sofa/1").status_code == 202
    frozen.advance(seconds=60)  # t = 100 s: the tab is closed, 55 visible seconds
    assert shop.hit("leave", view="view-0002", url=f"{ORIGIN}/sofa/1",
                    seconds=55).status_code == 202
    # 2 pages; 15 s on the first + 55 s on the second = 70 s; campaign from the UTM values
    expected = (2, 70, shop.campaigns["spring"], shop.channels["direct"], "spring", None)
    assert visits(shop) == [expected]
    assert shop.count(SitePageView) == 2
    assert shop.count(Touchpoint) == 0  # written once, when the visit ends

    frozen.advance(minutes=29, seconds=59)  # last activity + 29:59: still open
    close_idle(shop)
    assert shop.count(Touchpoint) == 0
    frozen.advance(seconds=1)  # + 30:00: over
    close_idle(shop)
    [(touch,)] = shop.rows(select(Touchpoint))
    assert (touch.kind, touch.visitor_id, touch.client_id, touch.occurred_at) == (
        TouchpointKind.VISIT, VISITOR, None, start)
    assert (touch.pages, touch.seconds_on_site, touch.campaign_id, touch.channel_id) == (
        2, 70, shop.campaigns["spring"], shop.channels["direct"])
    assert (touch.utm_source, touch.utm_medium, touch.utm_campaign) == ("yandex", "cpc", "spring")
    assert (touch.landing_page, touch.referrer) == (SPRING, "https://yandex.ru/search")
    [(visit,)] = shop.rows(select(SiteVisit))
    assert visit.ended_at == start + timedelta(seconds=100)  # the last activity
    assert visit.touchpoint_id == touch.id


def test_claimed_seconds_are_capped_by_the_time_since_the_page_was_shown(shop: Shop, frozen):
    shop.hit()
    frozen.advance(seconds=10)
    shop.hit("heartbeat", seconds=3600)  # a page shown 10 s ago cannot have been seen 1 h
    shop.hit("heartbeat", seconds=5)  # seconds never go down
    assert visits(shop)[0][:2] == (1, 70)  # 10 s + 60 s slack


def test_after_thirty_idle_minutes_the_next_hit_starts_a_new_visit(shop: Shop, frozen):
    shop.hit(url=SPRING)
    frozen.advance(minutes=30)
    shop.hit(view="view-0002")
    assert [v[:3] for v in visits(shop)] == [(1, 0, shop.campaigns["spring"]), (1, 0, None)]
    assert visits(shop)[0][5] is not None and visits(shop)[1][5] is None
    assert shop.count(Touchpoint) == 1  # the first visit was written by the next hit
    assert shop.count(SiteVisitor) == 1


def test_a_new_campaign_click_within_thirty_minutes_starts_a_new_visit(shop: Shop, frozen):
    shop.hit(url=SPRING)
    frozen.advance(minutes=5)
    shop.hit(view="view-0002", url=f"{ORIGIN}/?utm_source=vk&utm_medium=social"
                                   "&utm_campaign=stories")
    frozen.advance(minutes=1)
    shop.hit(view="view-0003", url=f"{ORIGIN}/about")  # no UTM: stays in the current visit
    assert [v[:3] for v in visits(shop)] == [
        (1, 0, shop.campaigns["spring"]), (2, 0, shop.campaigns["stories"])]


def test_goals_are_recorded_once_per_event(shop: Shop, frozen):
    shop.hit()
    for _ in range(2):  # the same event sent twice (a retried request)
        response = shop.hit("goal", goal="cart", event="evt-0001", properties={"sku": "A-1"})
        assert response.status_code == 202
    shop.hit("goal", goal="cart", event="evt-0002")
    assert shop.rows(select(SiteGoal.name, SiteGoal.event_key, SiteGoal.properties)
                     .order_by(SiteGoal.id)) == [
        ("cart", "evt-0001", {"sku": "A-1"}), ("cart", "evt-0002", {})]


def test_a_redelivered_beacon_is_stored_and_counted_once(shop: Shop, frozen):
    shop.hit()
    frozen.advance(seconds=20)
    first = shop.hit("leave", seconds=20)
    again = shop.hit("leave", seconds=20)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert shop.count(InboundEvent, InboundEvent.provider == "tracker") == 2  # pageview, leave
    assert visits(shop)[0][:2] == (1, 20)


def test_a_late_beacon_of_a_finished_visit_changes_nothing(shop: Shop, frozen):
    shop.hit()
    frozen.advance(minutes=45)
    response = shop.hit("leave", seconds=600)  # the tab was closed long after
    assert response.status_code == 202
    assert visits(shop)[0][:2] == (1, 0)
    assert shop.count(SiteVisit) == 1
    assert shop.count(Touchpoint) == 1


def test_raw_hits_are_kept_in_the_inbound_log_and_marked_processed(shop: Shop, frozen):
    shop.hit(url=SPRING)
    [(event,)] = shop.rows(select(InboundEvent))
    assert (event.provider, event.kind, event.status.value, event.attempts) == (
        "tracker", "pageview", "processed", 1)
    assert event.external_id == f"{shop.site_id}:{VISITOR}:view-0001:pageview:"
    assert event.headers["origin"] == ORIGIN
    [(visit_id,)] = shop.rows(select(SiteVisit.id))
    assert event.result == {"visit_id": visit_id}
