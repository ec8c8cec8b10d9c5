"""The site-tracker test world: a shop with a tracked site, campaigns, a number pool, a form.

Reference data is made by the services as the system actor (fast); what the tests exercise
goes over HTTP, as a browser or a user would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from tests.pipeline.sample import SALES_STAGES, FrozenClock, frozen_clock
from voronka.access.actor import Actor
from voronka.campaign import service as marketing
from voronka.campaign.models import TrackingKind
from voronka.campaign.schemas import CampaignCreate, ChannelCreate, TrackingNumberCreate
from voronka.db.session import unit_of_work
from voronka.pipeline import service as pipeline_service
from voronka.pipeline.schemas import PipelineCreate, StageIn
from voronka.tracking import ratelimit, sites
from voronka.tracking.schemas import SiteCreate
from voronka.web.app import create_app
from voronka.workspace.service import ensure_default

ORIGIN = "https://shop.example"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SIGNALS = {"screen": "1920x1080", "tz": "Europe/Moscow", "lang": "ru-RU", "webdriver": False}
VISITOR = "v1sitor-0000000000001"
POOL = ["+74950000101", "+74950000102"]
DEFAULT_NUMBER = "+74950000100"


@dataclass
class Shop:
    """Ids and keys of the world, and an anonymous browser-like client."""

    engine: Engine
    browser: TestClient
    site_id: int
    site_key: str
    channels: dict[str, int]
    campaigns: dict[str, int]
    numbers: dict[str, int]
    pipeline_id: int
    first_stage_id: int
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)

    def hit(self, type_: str = "pageview", *, visitor: str = VISITOR, view: str = "view-0001",
            url: str = f"{ORIGIN}/", headers: dict[str, str] | None = None,
            **extra: Any) -> Any:
        payload = {"site": self.site_key, "visitor": visitor, "type": type_, "view": view,
                   "url": url, "signals": SIGNALS, **extra}
        return self.post("/api/v1/collect", payload, headers)

    def ask_number(self, *, visitor: str = VISITOR, view: str = "view-0001",
                   url: str = f"{ORIGIN}/") -> Any:
        payload = {"site": self.site_key, "visitor": visitor, "view": view, "url": url,
                   "signals": SIGNALS}
        return self.post("/api/v1/collect/number", payload)

    def post(self, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {"User-Agent": BROWSER, "Origin": ORIGIN, "Content-Type": "text/plain",
                **(headers or {})}
        return self.browser.post(path, content=body, headers=sent)

    def count(self, model: Any, *conditions: Any) -> int:
        with unit_of_work(self.engine, write=False) as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*conditions))
                       or 0)

    def rows(self, query: Any) -> list[Any]:
        with unit_of_work(self.engine, write=False) as session:
            return list(session.execute(query).all())


def build_shop(engine: Engine) -> Shop:
    """Channels, campaigns, two pool numbers, a site and a pipeline, made by the services
    (the HTTP endpoints that make them are tested in their own areas and in test_admin)."""
    actor = Actor.system(1)
    with unit_of_work(engine) as session:
        ensure_default(session)
        channels = {
            key: marketing.create_channel(session, actor=actor, data=ChannelCreate(
                slug=slug, name=slug, kind=kind, is_paid=True)).id
            for key, slug, kind in (("direct", "yandex-direct", "paid_search"),
                                    ("vk", "vk-ads", "paid_social"))
        }
        campaigns = {
            name: marketing.create_campaign(session, actor=actor, data=CampaignCreate(
                channel_id=channels[channel], name=name, utm_source=source, utm_medium=medium,
                utm_campaign=name)).id
            for name, channel, source, medium in (("spring", "direct", "yandex", "cpc"),
                                                  ("stories", "vk", "vk", "social"))
        }
        numbers = {
            number: marketing.create_tracking_number(session, actor=actor, data=(
                TrackingNumberCreate(number=number, kind=TrackingKind.DYNAMIC,
                                     channel_id=channels["direct"]))).id
            for number in POOL
        }
        site = sites.create_site(session, actor=actor, data=SiteCreate(
            name="Shop", allowed_origins=[ORIGIN], default_number=DEFAULT_NUMBER))
        pipeline = pipeline_service.create(session, actor=actor, data=PipelineCreate(
            name="Sales", is_default=True, stages=[StageIn(**s) for s in SALES_STAGES]))
        first_stage = min((s for s in pipeline.stages), key=lambda s: s.position)
        ids = (site.id, site.site_key, pipeline.id, first_stage.id)
    browser = TestClient(create_app(engine))
    return Shop(engine, browser, ids[0], ids[1], channels, campaigns, numbers, ids[2], ids[3])


def shop_fixture(engine: Engine) -> Iterator[Shop]:
    ratelimit.buckets().clear()
    shop = build_shop(engine)
    try:
        yield shop
    finally:
        shop.browser.close()
        ratelimit.buckets().clear()


def clock_fixture() -> Iterator[FrozenClock]:
    yield from frozen_clock()


