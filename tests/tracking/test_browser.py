"""The snippet in a real browser: the system Chromium (headless, via Playwright) opens a shop
page served from another origin, and Voronka, live under uvicorn, records the visit, its
pages, the reserved number and a form lead; an automated browser is refused."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from tests.lead.conftest import make_form
from tests.tracking.support import BROWSER, POOL, Shop, shop_fixture
from voronka import clock
from voronka.campaign.models import Touchpoint, TouchpointKind
from voronka.client.models import Client, ContactKind
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal
from voronka.tracking import service
from voronka.tracking.models import Site, SitePageView, SiteVisit, SiteVisitor
from voronka.web.app import create_app

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
HIDE_AUTOMATION = "Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false})"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<script async src="{voronka}/t.js" data-site="{site}" data-endpoint="{voronka}"></script>
</head><body>
<p>Call us: <a data-voronka-phone href="tel:+74950000100">+7 495 000-01-00</a></p>
<a id="next" href="/sofa.html">Sofas</a>
<form data-voronka-form="{form}">
  <input name="name"><input name="phone"><input name="email">
  <textarea name="comment"></textarea>
  <input type="checkbox" name="agree"><input type="checkbox" name="news">
  <button type="submit">Send</button>
</form>
</body></html>"""


def _listening_socket() -> socket.socket:
    """A socket already listening on a free port: clients queue in its backlog until the
    server thread accepts, so nothing has to wait for the server to start."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@dataclass
class Servers:
    voronka: str
    shop: str


@pytest.fixture
def servers(engine, tmp_path: Path) -> Iterator[Servers]:
    api_socket = _listening_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(engine), log_level="warning",
                                           lifespan="off"))
    api_thread = threading.Thread(target=server.run, kwargs={"sockets": [api_socket]},
                                  daemon=True)
    api_thread.start()
    handler = partial(_QuietHandler, directory=str(tmp_path))
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    pages_thread = threading.Thread(target=pages.serve_forever, daemon=True)
    pages_thread.start()
    try:
        yield Servers(f"http://127.0.0.1:{api_socket.getsockname()[1]}",
                      f"http://127.0.0.1:{pages.server_address[1]}")
    finally:
        pages.shutdown()
        pages.server_close()
        server.should_exit = True
        api_thread.join()
        api_socket.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def live_shop(engine, servers: Servers, tmp_path: Path) -> Iterator[tuple[Shop, Servers]]:
    for shop in shop_fixture(engine):
        with unit_of_work(engine) as session:
            session.get(Site, shop.site_id).allowed_origins = [servers.shop]
        form = make_form(shop, min_fill_seconds=0)
        for name, title in (("index.html", "Shop"), ("sofa.html", "Sofas")):
            (tmp_path / name).write_text(PAGE.format(
                title=title, voronka=servers.voronka, site=shop.site_key, form=form["key"]))
        yield shop, servers


def test_the_snippet_records_a_visit_a_number_and_a_form_lead(live_shop):
    shop, servers = live_shop
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            _visit_as_a_person(browser, shop, servers)
            _visit_as_a_robot(browser, shop, servers)
        finally:
            browser.close()


def _visit_as_a_person(browser, shop: Shop, servers: Servers) -> None:
    context = browser.new_context(user_agent=BROWSER, locale="ru-RU",
                                  timezone_id="Europe/Moscow")
    context.add_init_script(HIDE_AUTOMATION)  # a person's browser is not driven by WebDriver
    page = context.new_page()
    landing = f"{servers.shop}/index.html?utm_source=yandex&utm_medium=cpc&utm_campaign=spring"
    page.goto(landing)
    page.evaluate("() => window.voronka.ready")  # the page view is stored, the number shown
    phone = page.locator("[data-voronka-phone]")
    assert phone.text_content() == "+7 495 000-01-01"
    assert phone.get_attribute("href") == f"tel:{POOL[0]}"
    [cookie] = [c for c in context.cookies() if c["name"] == "_vrk"]
    visitor_key = cookie["value"]

    page.wait_for_selector('form[data-voronka-state="ready"]')
    page.fill("input[name=name]", "Мария Иванова")
    page.fill("input[name=phone]", "+7 (926) 111-22-33")
    page.fill("input[name=email]", "maria@example.org")
    page.fill("textarea[name=comment]", "Нужен диван")
    page.check("input[name=agree]")
    page.click("button[type=submit]")
    page.wait_for_selector('form[data-voronka-state="sent"]')

    page.click("#next")  # the second page; the first sends its leave beacon
    page.wait_for_load_state()
    page.evaluate("() => window.voronka.ready")
    context.close()

    with unit_of_work(shop.engine, write=False) as session:
        visitor = session.scalar(select(SiteVisitor))
        assert visitor.visitor_key == visitor_key and len(visitor_key) == 22
        [visit] = session.scalars(select(SiteVisit)).all()
        assert (visit.pages, visit.campaign_id, visit.landing_page) == (
            2, shop.campaigns["spring"], landing)
        titles = session.scalars(select(SitePageView.title).order_by(SitePageView.id)).all()
        assert titles == ["Shop", "Sofas"]
        client = session.scalar(select(Client))
        assert client.name == "Мария Иванова"
        assert [(c.kind, c.value) for c in client.contacts] == [
            (ContactKind.PHONE, "+79261112233"), (ContactKind.EMAIL, "maria@example.org")]
        assert visitor.client_id == client.id
        deal = session.scalar(select(Deal))
        assert (deal.client_id, deal.campaign_id, deal.stage_id) == (
            client.id, shop.campaigns["spring"], shop.first_stage_id)
        form_touch = session.scalar(select(Touchpoint))
        assert (form_touch.kind, form_touch.visitor_id) == (TouchpointKind.FORM, visitor_key)
    # the visit becomes a touchpoint of the now known client once it is over: half an hour
    # (VORONKA_TRACKING_VISIT_IDLE_MINUTES) after the last beacon, which may still be arriving
    later = clock.now() + timedelta(minutes=35)
    with unit_of_work(shop.engine) as session:
        assert service.close_idle_visits(session, now=later) == 1
    visit_touch = shop.rows(select(Touchpoint).where(Touchpoint.kind == TouchpointKind.VISIT))
    assert [(t.client_id, t.pages) for (t,) in visit_touch] == [(client.id, 2)]


def _visit_as_a_robot(browser, shop: Shop, servers: Servers) -> None:
    """Chromium driven by Playwright says navigator.webdriver = true: not tracked."""
    context = browser.new_context(user_agent=BROWSER)
    page = context.new_page()
    page.goto(f"{servers.shop}/index.html")
    page.evaluate("() => window.voronka.ready")
    assert page.evaluate("() => navigator.webdriver") is True
    context.close()
    assert shop.count(SiteVisitor) == 1  # only the person
