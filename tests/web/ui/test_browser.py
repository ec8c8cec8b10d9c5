"""The web interface in a real browser (the system Chromium driven by Playwright).

A live uvicorn serves a small seeded demo company; one browser runs for the whole session.
Every page is opened as the administrator at desktop and phone widths and a screenshot is
saved (``VORONKA_SCREENSHOTS`` names the folder; ``make screenshots`` writes docs/screenshots).
The core flow (sign in, the overview, a dragged deal, a manager's URL scope, CSRF) runs on
SQLite and PostgreSQL; the page tour on SQLite.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from sqlalchemy import Engine, func, select, update

from tests.conftest import empty_tables
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.client.models import Client
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.deal import service as deal_service
from voronka.deal.models import Deal
from voronka.deal.schemas import DealCreate
from voronka.demo import generate
from voronka.pipeline.models import Stage, StageKind
from voronka.user.models import Role, User
from voronka.user.password import hash_password
from voronka.web.app import create_app
from voronka.web.ui import analysis

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "browser test password"
END = date(2026, 10, 31)  # the demo's last day
PERIOD = "start=2026-08-01&end=2026-10-31"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
ZONE = ZoneInfo("Europe/Moscow")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn in a thread over ``engine``; ``url`` is its address."""

    def __init__(self, engine: Engine) -> None:
        port = _free_port()
        config = uvicorn.Config(create_app(engine), host="127.0.0.1", port=port,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def company(migrated_engine: Engine) -> Iterator[Engine]:
    """A 150-client demo company whose users all sign in with ``PASSWORD``."""
    generate(migrated_engine, clients=150, seed=7, end=END)
    with unit_of_work(migrated_engine) as session:
        session.execute(update(User).values(password_hash=hash_password(PASSWORD)))
    yield migrated_engine
    empty_tables(migrated_engine)


@pytest.fixture(scope="module")
def live(company: Engine) -> Iterator[LiveServer]:
    with LiveServer(company) as server:
        yield server


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    folder = Path(os.environ.get("VORONKA_SCREENSHOTS") or "var/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Tab:
    """A browser page that records console errors and failed requests."""

    def __init__(self, browser: Any, live: LiveServer, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport, locale="ru-RU")
        # generous: the two cores are shared with the rest of the suite
        self.context.set_default_timeout(120_000)
        self.page = self.context.new_page()
        self.live = live
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: str) -> Any:
        response = self.page.goto(self.live.url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def sign_in(self, email: str, then: str = "/ui/") -> None:
        self.open("/ui/login?next=" + quote(then))
        self.page.get_by_label("Эл. почта").fill(email)
        self.page.get_by_label("Пароль").fill(PASSWORD)
        self.page.get_by_role("button", name="Войти").click()
        self.page.wait_for_url(self.live.url + then)
        self.page.wait_for_load_state("networkidle")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(chromium: Any, live: LiveServer) -> Iterator[Tab]:
    opened = Tab(chromium, live, DESKTOP)
    yield opened
    opened.close()


def _user(engine: Engine, role: Role, team: int | None = None) -> User:
    with unit_of_work(engine) as session:
        query = select(User).where(User.role == role).order_by(User.id)
        if team is not None:
            query = query.where(User.team_id == team)
        user = session.scalars(query).first()
        assert user is not None
        session.expunge(user)
        return user


def _local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    begin = datetime(start.year, start.month, start.day, tzinfo=ZONE)
    stop = datetime(end.year, end.month, end.day, tzinfo=ZONE) + timedelta(days=1)
    return begin, stop


def _leads(engine: Engine, start: date, end: date) -> list[int]:
    """Deals created in the local days start..end (the `leads` measure), by SQL."""
    begin, stop = _local_day_bounds(start, end)
    with unit_of_work(engine) as session:
        return list(session.scalars(select(Deal.id).where(
            Deal.created_at >= begin, Deal.created_at < stop, Deal.is_deleted.is_(False)
        ).order_by(Deal.id)))


def _open_deal(engine: Engine, owner: User) -> None:
    """A fresh deal of ``owner`` in the first stage, so the board has a card to drag."""
    actor = Actor(owner.id, owner.workspace_id, owner.role, owner.team_id)
    with unit_of_work(engine) as session:
        client_id = session.scalars(select(Client.id).where(Client.owner_id == owner.id)).first()
        if client_id is None:
            client_id = session.scalars(select(Client.id).where(
                Client.owner_id.in_(select(User.id).where(User.team_id == owner.team_id)))).first()
        deal_service.create(session, actor=actor, scope=Scope.TEAM,
                            data=DealCreate(title="Dragged deal", client_id=client_id))


def _card_value(tab: Tab, metric: str) -> str:
    return tab.page.locator(f'article.metric[data-metric="{metric}"] .value').get_attribute(
        "data-value")


def test_sign_in_overview_filters_and_drill_down(tab, company):
    admin = _user(company, Role.ADMIN)
    tab.sign_in(admin.email, f"/ui/?{PERIOD}")
    expected = _leads(company, date(2026, 8, 1), END)
    assert float(_card_value(tab, "leads")) == len(expected)
    # change the period through the form: the numbers follow, the filter stays in the URL
    tab.page.get_by_label("С", exact=True).fill("2026-10-01")
    tab.page.get_by_role("button", name="Применить").click()
    tab.page.wait_for_url("**start=2026-10-01**")
    tab.page.wait_for_load_state("networkidle")
    october = _leads(company, date(2026, 10, 1), END)
    assert len(october) != len(expected)
    assert float(_card_value(tab, "leads")) == len(october)
    # the figure's link lists exactly the deals behind it
    tab.page.locator('article.metric[data-metric="leads"] .value a').click()
    tab.page.wait_for_url("**/ui/drill**")
    ids = tab.page.locator('table[data-table="records"] tbody tr td:first-child').all_inner_texts()
    assert sorted(int(i.replace("\u00a0", "").replace(" ", "")) for i in ids) == october
    assert tab.errors == []


def test_a_dragged_deal_changes_stage(tab, company):
    head = _user(company, Role.HEAD_OF_SALES)
    _open_deal(company, head)
    tab.sign_in(head.email, "/ui/board")
    # the first open stage holding a card whose next stage is open too
    kinds = tab.page.locator("[data-stage-column]").evaluate_all("cs => cs.map(c => c.dataset.kind)")
    counts = tab.page.locator("#board .cards").evaluate_all(
        "cs => cs.map(c => c.querySelectorAll('.deal').length)")
    index = next(i for i in range(len(kinds) - 1)
                 if kinds[i] == kinds[i + 1] == "open" and counts[i] > 0)
    columns = tab.page.locator("#board .cards")
    source_stage = int(columns.nth(index).get_attribute("data-stage"))
    target_stage = int(columns.nth(index + 1).get_attribute("data-stage"))
    card = columns.nth(index).locator(".deal").first
    deal_id = int(card.get_attribute("data-deal"))
    before = int(tab.page.locator("[data-stage-column] [data-count]").nth(index + 1).inner_text())
    grip, target = card.locator("small").bounding_box(), columns.nth(index + 1).bounding_box()
    mouse = tab.page.mouse
    mouse.move(grip["x"] + 5, grip["y"] + 5)
    mouse.down()
    mouse.move(grip["x"] + 30, grip["y"] + 30, steps=5)
    mouse.move(target["x"] + target["width"] / 2, target["y"] + 20, steps=15)
    mouse.up()
    counts_now = tab.page.locator("[data-stage-column] [data-count]")
    sync_api.expect(counts_now.nth(index + 1)).to_have_text(str(before + 1))
    tab.page.locator(f'[data-stage="{target_stage}"] [data-deal="{deal_id}"]').wait_for()
    with unit_of_work(company) as session:
        assert session.get(Deal, deal_id).stage_id == target_stage != source_stage
    # the keyboard alternative: the card's Move form
    moved_back = tab.page.locator(f'[data-deal="{deal_id}"] select')
    moved_back.select_option(str(source_stage))
    moved_back.press("Tab")
    tab.page.keyboard.press("Enter")
    tab.page.locator(f'[data-stage="{source_stage}"] [data-deal="{deal_id}"]').wait_for()
    with unit_of_work(company) as session:
        assert session.get(Deal, deal_id).stage_id == source_stage
    assert tab.errors == []


def test_a_manager_cannot_reach_another_teams_client_by_url(tab, company):
    manager = _user(company, Role.SALES_MANAGER, team=1)
    with unit_of_work(company) as session:
        other_team = select(User.id).where(User.team_id != manager.team_id)
        theirs = session.scalars(select(Client.id).where(Client.owner_id.in_(other_team))).first()
        own = session.scalars(select(Client.id).where(Client.owner_id == manager.id)).first()
    tab.sign_in(manager.email, "/ui/tasks")
    assert tab.open(f"/ui/clients/{own}").status == 200
    response = tab.open(f"/ui/clients/{theirs}")
    assert response.status == 404
    assert tab.page.get_by_role("heading", level=1).inner_text() == "Не найдено"
    # a POST without the CSRF token is refused, even with the session cookie
    refused = tab.page.request.post(tab.live.url + f"/ui/clients/{own}/activities",
                                    form={"kind": "note", "body": "no token"})
    assert refused.status == 403


PAGES = [
    "/ui/", "/ui/funnel", "/ui/channels", "/ui/managers", "/ui/calls", "/ui/client-analytics",
    "/ui/cohorts", "/ui/clients", "/ui/board", "/ui/tasks", "/ui/orders", "/ui/products",
    "/ui/settings", "/ui/forecast", "/ui/experiments",
]


@pytest.mark.sqlite_only  # a tour of pages; the store-specific paths run on both above
def test_every_page_renders_without_console_errors(chromium, live, company, shots, monkeypatch):
    # the phone pass shows the same figures: let it reuse the reports (the data do not change)
    monkeypatch.setattr(get_settings(), "analytics_refresh_seconds", 3600)
    analysis.forget()
    admin = _user(company, Role.ADMIN)
    with unit_of_work(company) as session:
        client_id = session.scalars(select(Client.id).order_by(Client.id)).first()
        deal_id = session.scalars(select(Deal.id).join(Stage, Deal.stage_id == Stage.id)
                                  .where(Stage.kind == StageKind.OPEN).order_by(Deal.id)).first()
    pages = [f"{p}?{PERIOD}" if "?" not in p else p for p in PAGES]
    pages += [f"/ui/clients/{client_id}", f"/ui/deals/{deal_id}",
              f"/ui/drill?measure=revenue&{PERIOD}", f"/ui/funnel/dropped?step=2&{PERIOD}"]
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        tab = Tab(chromium, live, viewport)
        try:
            tab.sign_in(admin.email, pages[0])
            for path in pages:
                response = tab.open(path)
                assert response.status == 200, (path, response.text()[:2000])
                assert tab.errors == [], (path, tab.errors)
                slug = path.split("?")[0].strip("/").replace("/", "-").replace("ui-", "") or "ui"
                if slug[-1].isdigit():
                    slug = slug.rstrip("0123456789") + "card"
                tab.page.screenshot(path=shots / f"{slug}-{name}.png", full_page=True)
        finally:
            tab.close()
    analysis.forget()
    with unit_of_work(company) as session:
        assert session.scalar(select(func.count()).select_from(Client)) > 0
