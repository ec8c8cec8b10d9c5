"""Bots and garbage are refused before anything is stored: 400 naming the field (or header),
403 for pages outside the site's origins, 404 for unknown sites; rate limits per visitor and
per IP, in this process and through Redis."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.tracking.support import ORIGIN, SIGNALS, VISITOR, Shop
from voronka.config import get_settings
from voronka.integrations.inbound import InboundEvent
from voronka.tracking import ratelimit
from voronka.tracking.models import SitePageView, SiteVisit, SiteVisitor


def assert_nothing_stored(shop: Shop) -> None:
    assert [shop.count(m) for m in (InboundEvent, SiteVisitor, SiteVisit, SitePageView)] == [
        0, 0, 0, 0]


def fields_of(response) -> list[str]:
    return [d.get("field") for d in response.json()["error"]["details"]]


MALFORMED = [
        ({"site": None}, "site"),
        ({"site": "bad key!"}, "site"),
        ({"visitor": "short"}, "visitor"),
        ({"visitor": "x" * 65}, "visitor"),
        ({"type": "purchase"}, "type"),
        ({"view": ""}, "view"),
        ({"url": 42}, "url"),
        ({"url": "javascript:alert(1)//"}, "url"),
        ({"url": "ftp://shop.example/file"}, "url"),
        ({"seconds": -1}, "seconds"),
        ({"seconds": 10**9}, "seconds"),
        ({"title": "a\x00b"}, "title"),
        ({"properties": {f"p{i}": i for i in range(21)}}, "properties"),
        ({"properties": {"nested": {"a": 1}}}, "properties.nested"),
        ({"extra": "field"}, "extra"),
        ({"type": "goal"}, "goal"),
        ({"goal": "cart"}, "goal"),
        ({"signals": None}, "signals"),
        ({"signals": {"screen": "0x0", "tz": "UTC", "lang": "en"}}, "signals.screen"),
        ({"signals": {"screen": "1920x1080", "lang": "en"}}, "signals.tz"),
        ({"signals": {**SIGNALS, "webdriver": True}}, "signals.webdriver"),
]
NOT_OBJECTS = [b"", b"not json", b"[1, 2]", b"\xff\xfe", b"{" * 20_000]
ROBOTS = [
        "",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0.0.0",
        "facebookexternalhit/1.1",
]


def test_malformed_hits_are_400s_naming_the_field(shop: Shop):
    # one shop for every case (setting one up per case would cost a second each)
    for change, field in MALFORMED:
        payload = {"site": shop.site_key, "visitor": VISITOR, "type": "pageview",
                   "view": "view-0001", "url": f"{ORIGIN}/", "signals": SIGNALS, **change}
        response = shop.post("/api/v1/collect", payload)
        assert response.status_code == 400, (change, response.text)
        assert field in fields_of(response), (change, fields_of(response))
        assert response.headers["access-control-allow-origin"] == "*"  # the page can read why
    for body in NOT_OBJECTS:
        response = shop.post("/api/v1/collect", body)
        assert (response.status_code, fields_of(response)) == (400, ["body"]), body[:10]
    assert_nothing_stored(shop)


def test_robots_are_refused_by_their_user_agent(shop: Shop):
    for agent in ROBOTS:
        response = shop.hit(headers={"User-Agent": agent})
        assert (response.status_code, fields_of(response)) == (400, ["User-Agent"]), agent
    assert_nothing_stored(shop)


def test_pages_outside_the_site_origins_are_refused(shop: Shop):
    other = shop.hit(url="https://evil.example/")
    assert other.status_code == 403 and fields_of(other) == ["url"]
    forged = shop.hit(headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and fields_of(forged) == ["Origin"]
    unknown = shop.post("/api/v1/collect", {
        "site": "no-such-site-key", "visitor": VISITOR, "type": "pageview", "view": "view-0001",
        "url": f"{ORIGIN}/", "signals": SIGNALS})
    assert unknown.status_code == 404 and fields_of(unknown) == ["site"]
    assert_nothing_stored(shop)


@pytest.fixture
def tight_limits(monkeypatch: pytest.MonkeyPatch):
    """A visitor may send 3 requests at once, then 1 per second (60 per minute)."""
    monkeypatch.setenv("VORONKA_TRACKING_RATE_BURST", "3")
    monkeypatch.setenv("VORONKA_TRACKING_RATE_PER_MINUTE", "60")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _exhaust_then_refill(shop: Shop, frozen) -> None:
    codes = [shop.hit("heartbeat", seconds=s).status_code for s in range(4)]
    assert codes == [202, 202, 202, 429]  # burst of 3
    refused = shop.hit("heartbeat", seconds=9)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"  # 1 token per second
    assert refused.json()["error"]["code"] == "too_many_requests"
    other = shop.hit("heartbeat", visitor="another-visitor-0001", seconds=1)
    assert other.status_code == 202  # per visitor; the IP allows 10 × 3 at once
    frozen.advance(seconds=1)
    assert shop.hit("heartbeat", seconds=10).status_code == 202


def test_a_visitor_is_rate_limited_in_process(shop: Shop, frozen, tight_limits):
    _exhaust_then_refill(shop, frozen)


def test_the_rate_limit_can_live_in_redis(shop: Shop, frozen, tight_limits, monkeypatch):
    monkeypatch.setenv("VORONKA_RATE_LIMIT_BACKEND", "redis")
    get_settings.cache_clear()
    # a prefix of its own, so parallel test workers never share buckets
    monkeypatch.setattr(ratelimit.RedisBuckets, "prefix", f"voronka:test:{uuid.uuid4().hex}:")
    buckets = ratelimit.buckets()
    assert isinstance(buckets, ratelimit.RedisBuckets)
    try:
        _exhaust_then_refill(shop, frozen)
        # the state is in Redis: a second process (another MemoryBuckets-free instance) agrees
        again = ratelimit.RedisBuckets(get_settings().rate_limit_redis_url)
        assert again.take(f"t:v:{shop.site_key}:{VISITOR}", ratelimit.tracking_limit()) == 1
    finally:
        buckets.clear()


def test_the_ip_bucket_holds_ten_visitors_worth(shop: Shop, frozen, tight_limits):
    sent = [
        shop.hit(visitor=f"visitor-{n:04d}-abcdefgh", view=f"view-{n:04d}").status_code
        for n in range(31)
    ]
    assert sent == [202] * 30 + [429]  # 10 × burst of 3 from one address


def test_the_snippet_is_served_by_voronka_itself(shop: Shop):
    response = shop.browser.get("/t.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "sendBeacon" in response.text and "/api/v1/collect" in response.text
    code = response.text.split("*/", 1)[1]  # after the header comment
    assert re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", code) == []  # names no other host
    cached = shop.browser.get("/t.js", headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


