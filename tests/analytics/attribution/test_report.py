"""The attribution report on a tiny March 2026, checked by hand, on every engine.

Channels: yandex (paid search, campaign y-brand, tracking number +7001), vk (paid social,
campaign vk-a), seo (organic), direct (direct). Basis: won deals; lookback 30 days; all
touches at 12:00 unless said, conversions (deals won) at 12:00.

  ann  1 Mar yandex, 5 Mar seo, 7 Mar yandex, 9 Mar direct; won 10 Mar, 1000
  bob  2 Mar vk click (vk-a); 4 Mar inbound call to +7001 (→ yandex, y-brand); won 6 Mar, 500
  dan  1 Feb yandex (37 days before: outside), 10 Mar direct; won 15 Mar, 300
  fay  7 Mar 10:00 call touchpoint on yandex, and the same call as an activity to +7001 at
       10:02 (one touch, not two); won 8 Mar, 100
  eve  won 20 Mar, 200, no touches (an untouched conversion)
  cat  3 Mar seo, 20 Mar seo, never converts (the one non-converting journey)

Journeys: ann [Y S Y D] 1000, bob [V Y] 500, dan [D] 300, fay [Y] 100; null: cat [S S].
By hand (conversions; revenue):
  first touch      Y 2 (1100), V 1 (500), D 1 (300)
  last touch       D 2 (1300), Y 2 (600)
  last non-direct  Y 3 (1600: ann's last non-direct is 7 Mar yandex), D 1 (dan is all direct)
  linear           Y 1/2+1/2+1 = 2 (850), D 1/4+1 = 1.25 (550), V 0.5 (250), S 0.25 (250)
  position 40/20/40 ann: Y .4, S .1, Y .1, D .4 → Y 1.9? no: Y .4+.1+.5(bob)+1(fay) = 2.0
                   (850), D .4+1 = 1.4 (700), V .5 (250), S .1 (100)
  shapley          ann's set {Y,S,D} ⅓ each, bob {V,Y} ½, dan {D}, fay {Y}:
                   Y 11/6 (1000/3+250+100), D 4/3 (1000/3+300), V 1/2 (250), S 1/3 (1000/3)
  time decay (half-life 7 d) weights 2^(−days/7): ann 9, 5, 3, 1 days; bob 4, 2 days.
Markov order 1: start→Y 2, →V 1, →D 1, →S 1; Y→S 1, Y→D 1, Y→conv 2; S→Y 1, S→S 1,
S→null 1; D→conv 2; V→Y 1. Absorption: x_D = 1, x_V = x_Y, x_S = x_Y/2,
x_Y = x_S/4 + 1/4 + 1/2 → x_Y = 6/7, x_S = 3/7; P = (2·6/7 + 6/7 + 1 + 3/7)/5 = 4/5.
Without Y: P = 1/5 → RE 3/4. Without S: x_Y = 3/4, P = (1.5 + .75 + 1)/5 = .65 → RE 3/16.
Without D: x_Y = 4/7, x_S = 2/7, P = 2/5 → RE 1/2. Without V: P = 22/35 → RE 3/14.
Σ RE = 185/112: credits 4 × (84, 21, 56, 24)/185 for Y, S, D, V.
Value chain (reward per exit = value ÷ exits: D 1300/2, Y 600/4): v = 380 from start; without
Y 130, S 317.5, D 120, V 10800/35 → value REs 700, 175, 728, 200 (/1064); credited value
1900 × RE / Σ RE with Σ = 1803/1064.
Spend: y-brand 1000 (5 Mar), vk-a 200 (3 Mar). ROMI first touch: Y (1100−1000)/1000 = 10%,
V (500−200)/200 = 150%, D and S: no spend → None.

ann also touches seo on 15 Mar (after her deal: in no deal journey) and pays orders of 50
(12 Mar) and 70 (20 Mar): on the paid-orders basis the first order's journey is her four
touches before 12 Mar, the second's only the 15 Mar seo touch (after the first order).
"""

from __future__ import annotations

import pytest

from tests.analytics.factory import build
from tests.analytics.factory_attribution import channel, inbound_call, touch, tracking_number
from voronka.analytics.attribution import MarkovAttribution, Paths
from voronka.analytics.attribution.report import AttributionQuery, run
from voronka.analytics.query import Period
from voronka.campaign.models import ChannelKind, TouchpointKind

MARCH = Period(start="2026-03-01", end="2026-03-31")


def world(w):  # type: ignore[no-untyped-def]
    channel(w, "yandex", ChannelKind.PAID_SEARCH)
    channel(w, "vk", ChannelKind.PAID_SOCIAL)
    channel(w, "seo", ChannelKind.ORGANIC)
    channel(w, "direct", ChannelKind.DIRECT)
    w.campaign("y-brand", "yandex")
    w.campaign("vk-a", "vk")
    tracking_number(w, "+7001", "yandex", "y-brand")
    for name in ("ann", "bob", "dan", "fay", "eve", "cat"):
        w.client(name, owner="anna")
    for name, day, source in (("ann", "01", "yandex"), ("ann", "05", "seo"),
                              ("ann", "07", "yandex"), ("ann", "09", "direct"),
                              ("dan", "10", "direct"), ("cat", "03", "seo"),
                              ("cat", "20", "seo")):
        touch(w, name, f"2026-03-{day} 12:00", source)
    touch(w, "dan", "2026-02-01 12:00", "yandex")
    touch(w, "bob", "2026-03-02 12:00", "vk", kind=TouchpointKind.AD_CLICK, campaign="vk-a")
    inbound_call(w, "bob", "2026-03-04 12:00", "+7001")
    touch(w, "fay", "2026-03-07 10:00", "yandex", kind=TouchpointKind.CALL)
    inbound_call(w, "fay", "2026-03-07 10:02", "+7001")
    for name, created, won, amount in (("ann", "2026-02-20 12:00", "2026-03-10 12:00", "1000"),
                                       ("bob", "2026-03-02 12:00", "2026-03-06 12:00", "500"),
                                       ("dan", "2026-03-10 12:00", "2026-03-15 12:00", "300"),
                                       ("fay", "2026-03-07 10:00", "2026-03-08 12:00", "100"),
                                       ("eve", "2026-03-19 12:00", "2026-03-20 12:00", "200")):
        w.deal(name, created, [("won", won)], owner="anna", amount=amount)
    w.spend("y-brand", "2026-03-05", "1000")
    w.spend("vk-a", "2026-03-03", "200")
    touch(w, "ann", "2026-03-15 12:00", "seo")
    w.product("box", "1.00")
    w.order("ann", "2026-03-12 12:00", [("box", 50, "1.00")])
    w.order("ann", "2026-03-20 12:00", [("box", 70, "1.00")])


def _by_model(result):  # type: ignore[no-untyped-def]
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for r in result.rows:
        out.setdefault(r["model"], {})[r["channel"]] = (r["conversions"], r["revenue"])
    return out


def approx(figures):  # type: ignore[no-untyped-def]
    """The report rounds conversions to 9 decimals and money to 6: compare to 1e-8."""
    return pytest.approx(flat(figures), rel=1e-8)


def flat(figures):  # type: ignore[no-untyped-def]
    """{channel: (conversions, revenue)} → {(channel, 0): conversions, (channel, 1): revenue}."""
    return {(name, i): float(v) for name, pair in figures.items() for i, v in enumerate(pair)}


def test_report_on_a_hand_checked_march(analytics, store):  # type: ignore[no-untyped-def]
    """One world and snapshot per engine for the three checks (a snapshot costs seconds)."""
    build(store, world)
    runner = analytics()
    every_model(runner)
    campaign_level_and_romi(runner)
    paid_orders_start_after_the_previous_one(runner)
    order_two_matches_the_estimator(runner)


def every_model(runner):  # type: ignore[no-untyped-def]
    result = run(runner, AttributionQuery(period=MARCH))
    got = _by_model(result)
    zero = (0.0, 0.0)
    assert got["first_touch"] == {"Yandex": (2, 1100), "Vk": (1, 500), "Direct": (1, 300),
                                  "Seo": zero}
    assert got["last_touch"] == {"Yandex": (2, 600), "Direct": (2, 1300), "Vk": zero,
                                 "Seo": zero}
    assert got["last_non_direct"] == {"Yandex": (3, 1600), "Direct": (1, 300), "Vk": zero,
                                      "Seo": zero}
    assert flat(got["linear"]) == approx(
        {"Yandex": (2, 850), "Direct": (1.25, 550), "Vk": (0.5, 250), "Seo": (0.25, 250)})
    assert flat(got["position_based"]) == approx(
        {"Yandex": (2, 850), "Direct": (1.4, 700), "Vk": (0.5, 250), "Seo": (0.1, 100)})
    third = 1000 / 3
    assert flat(got["shapley"]) == approx(
        {"Yandex": (11 / 6, third + 350), "Direct": (4 / 3, third + 300), "Vk": (0.5, 250),
         "Seo": (1 / 3, third)})
    ann = [2 ** (-d / 7) for d in (9, 5, 3, 1)]
    bob = [2 ** (-d / 7) for d in (4, 2)]
    yandex = (ann[0] + ann[2]) / sum(ann), bob[1] / sum(bob)
    assert flat(got["time_decay"]) == approx({
        "Yandex": (yandex[0] + yandex[1] + 1, 1000 * yandex[0] + 500 * yandex[1] + 100),
        "Seo": (ann[1] / sum(ann), 1000 * ann[1] / sum(ann)),
        "Direct": (ann[3] / sum(ann) + 1, 1000 * ann[3] / sum(ann) + 300),
        "Vk": (bob[0] / sum(bob), 500 * bob[0] / sum(bob)),
    })
    value = {"Yandex": 700, "Seo": 175, "Direct": 728, "Vk": 200}
    assert flat(got["markov"]) == approx({
        name: (4 * share / 185, 1900 * value[name] / 1803)
        for name, share in (("Yandex", 84), ("Seo", 21), ("Direct", 56), ("Vk", 24))})
    effects = {r["channel"]: r["removal_effect"] for r in result.rows if r["model"] == "markov"}
    assert effects == pytest.approx({"Yandex": 3 / 4, "Seo": 3 / 16, "Direct": 1 / 2,
                                     "Vk": 3 / 14})
    assert result.row_counts == {"conversions": 5, "touched_conversions": 4,
                                 "untouched_conversions": 1, "non_converting_journeys": 1}
    first = {r["channel"]: (r["spend"], r["romi"]) for r in result.rows
             if r["model"] == "first_touch"}
    assert first == {"Yandex": (1000, 10.0), "Vk": (200, 150.0), "Direct": (0, None),
                     "Seo": (0, None)}


def campaign_level_and_romi(runner):  # type: ignore[no-untyped-def]
    """Last touch by campaign: ann → direct (no campaign) 1000, bob → the call's y-brand 500,
    dan → direct 300, fay → yandex without a campaign 100 (her call touchpoint has none; the
    activity twin is dropped). ROMI: y-brand (500 − 1000)/1000 = −50%; vk-a has spend and no
    credit: −100%."""
    result = run(runner, AttributionQuery(period=MARCH, models=["last_touch"],
                                               level="campaign"))
    got = {(r["channel"], r["campaign"]): (r["conversions"], r["revenue"], r["spend"], r["romi"])
           for r in result.rows}
    assert got == {("Direct", "no campaign"): (2, 1300, 0, None),
                   ("Yandex", "y-brand"): (1, 500, 1000, -50.0),
                   ("Yandex", "no campaign"): (1, 100, 0, None),
                   ("Vk", "vk-a"): (0, 0, 200, -100.0),
                   ("Seo", "no campaign"): (0, 0, 0, None)}


def paid_orders_start_after_the_previous_one(runner):  # type: ignore[no-untyped-def]
    """Order 1 (50): Y S Y D → first Y, last D; order 2 (70): S → first and last S. Clients
    touched in March without an order: bob, dan, fay, cat — four non-converting journeys."""
    result = run(runner, AttributionQuery(period=MARCH, basis="paid_orders",
                                               models=["first_touch", "last_touch", "markov"],
                                               metrics=[]))
    got = _by_model(result)
    assert {k: v for k, v in got["first_touch"].items() if v[0]} == {
        "Yandex": (1, 50), "Seo": (1, 70)}
    assert {k: v for k, v in got["last_touch"].items() if v[0]} == {
        "Direct": (1, 50), "Seo": (1, 70)}
    assert result.row_counts == {"conversions": 2, "touched_conversions": 2,
                                 "untouched_conversions": 0, "non_converting_journeys": 4}


def order_two_matches_the_estimator(runner):  # type: ignore[no-untyped-def]
    """The engine builds order-2 states with window functions; the estimator counts them in
    numpy from the same journeys (listed in the module docstring) — both must agree."""
    result = run(runner, AttributionQuery(period=MARCH, models=["markov"], order=2,
                                          metrics=[]))
    got = {r["channel"]: (r["conversions"], r["revenue"], r["removal_effect"])
           for r in result.rows}
    journeys = Paths.from_lists(
        [["Yandex", "Seo", "Yandex", "Direct"], ["Vk", "Yandex"], ["Direct"], ["Yandex"],
         ["Seo", "Seo"]], conversions=[1, 1, 1, 1, 0], value=[1000, 500, 300, 100, 0],
        nulls=[0, 0, 0, 0, 1])
    model = MarkovAttribution(order=2).fit(journeys)
    expected = {name: (model.conversions_[name], model.value_[name],
                       model.removal_effects_[name]) for name in journeys.channels}
    assert flat(got) == pytest.approx(flat(expected), rel=1e-8)
