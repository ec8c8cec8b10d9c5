"""The web interface over HTTP (no browser): sign-in, CSRF, escaping, scope, board moves.

Every test signs in through the real sign-in form with a real password and runs on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import func, select

from tests.pipeline.sample import create_pipeline
from tests.web.ui.conftest import sign_in
from voronka.activity.models import Activity
from voronka.audit.models import AuditEvent
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStageChange
from voronka.user.models import User
from voronka.web.ui.models import SavedView
from voronka.web.ui.render import ENV

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _count(engine, model, *where):
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _deal(people, who: str, client: str, title: str, stage_id: int | None = None) -> int:
    body = {"title": title, "client_id": people.clients[client], "amount": "1000"}
    if stage_id is not None:
        body["stage_id"] = stage_id
    response = people.http(who).post("/api/v1/deals", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_templates_autoescape():
    assert ENV.autoescape is True


def test_sign_in_sets_an_http_only_session_and_a_wrong_password_is_refused(people, anonymous):
    refused = sign_in(anonymous, "m1@test.voronka.local", "wrong password!")
    assert refused.status_code == 401
    assert "Неверная почта или пароль" in refused.text or "Wrong e-mail" in refused.text
    assert "voronka_session" not in anonymous.cookies
    accepted = sign_in(anonymous, "m1@test.voronka.local")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/ui/clients"
    cookie = accepted.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_a_malformed_address_is_an_html_page_naming_the_field(people, browse):
    page = browse("M1").get("/ui/clients/not-a-number")
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "client_id" in page.text


def test_pages_need_a_session(anonymous):
    response = anonymous.get("/ui/clients", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/clients"


def test_sign_in_without_its_csrf_token_is_refused(people, anonymous):
    anonymous.get("/ui/login")
    response = anonymous.post("/ui/login", data={"email": "m1@test.voronka.local",
                                                 "password": "correct horse battery"},
                              follow_redirects=False)
    assert response.status_code == 403
    assert "voronka_session" not in anonymous.cookies


def test_a_post_without_the_csrf_token_changes_nothing(people, browse, engine):
    m1 = browse("M1")
    url = f"/ui/clients/{people.clients['C1']}/activities"
    note = {"kind": "note", "body": "called about the fridge"}
    assert m1.post(url, note, token=False).status_code == 403
    assert m1.post(url, {**note, "csrf_token": "0" * 64}, token=False).status_code == 403
    assert _count(engine, Activity) == 0
    # the same form with the page's token is accepted and written once
    accepted = m1.post(url, note, htmx=True)
    assert accepted.status_code == 200
    assert "called about the fridge" in accepted.text
    assert _count(engine, Activity, Activity.client_id == people.clients["C1"]) == 1


def test_user_text_is_escaped_in_the_list_and_the_card(people, browse):
    response = people.http("M1").patch(
        f"/api/v1/clients/{people.clients['C1']}", json={"name": XSS},
        headers={"If-Match": people.http("M1").get(
            f"/api/v1/clients/{people.clients['C1']}").headers["etag"]})
    assert response.status_code == 200, response.text
    m1 = browse("M1")
    for url in ("/ui/clients", f"/ui/clients/{people.clients['C1']}"):
        page = m1.get(url)
        assert page.status_code == 200
        assert XSS not in page.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_a_manager_cannot_open_another_managers_client_by_url(people, browse):
    m1 = browse("M1")
    assert m1.get(f"/ui/clients/{people.clients['C1']}").status_code == 200
    for other in ("C2", "C3"):
        page = m1.get(f"/ui/clients/{people.clients[other]}")
        assert page.status_code == 404
        assert f"Client {other}" not in page.text
    listing = m1.get("/ui/clients").text
    assert "Client C1" in listing and "Client C2" not in listing and "Client C3" not in listing
    # the head of team 1 sees both of the team's clients, not team 2's
    team = browse("H").get("/ui/clients").text
    assert "Client C1" in team and "Client C2" in team and "Client C3" not in team
    quick = m1.post(f"/ui/clients/{people.clients['C2']}/activities",
                    {"kind": "note", "body": "x"}, htmx=True)
    assert quick.status_code == 404


def test_navigation_follows_the_policy(people, browse):
    manager = browse("M1").get("/ui/tasks").text
    assert 'href="/ui/clients"' in manager and 'href="/ui/board"' in manager
    assert 'href="/ui/settings"' not in manager and 'href="/ui/channels"' not in manager
    marketer = browse("K")
    page = marketer.get("/ui/clients")
    assert page.status_code == 403
    nav = page.text
    assert 'href="/ui/channels"' in nav and 'href="/ui/clients"' not in nav


def test_the_language_is_saved_per_user(people, browse, engine):
    m1 = browse("M1")
    assert "Задачи" in m1.get("/ui/tasks").text
    switched = m1.post("/ui/language", {"language": "en", "next": "/ui/tasks"})
    assert switched.status_code == 303 and switched.headers["location"] == "/ui/tasks"
    assert "My open tasks" in m1.get("/ui/tasks").text
    with unit_of_work(engine) as session:
        assert session.get(User, people.users["M1"]).language == "en"
        assert session.get(User, people.users["M2"]).language == "ru"
    # an unknown language or an outside address changes nothing and stays on the site
    odd = m1.post("/ui/language", {"language": "xx", "next": "https://evil.example/"})
    assert odd.headers["location"] == "/ui/"


def test_saved_views_belong_to_their_user(people, browse, engine):
    m1 = browse("M1")
    saved = m1.post("/ui/clients/views", {"name": "Mine", "query": "q=client&tag=vip&evil=1"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/ui/clients?q=client&tag=vip"
    with unit_of_work(engine) as session:
        view = session.scalars(select(SavedView)).one()
        assert (view.user_id, view.page, view.filters) == (
            people.users["M1"], "clients", {"q": "client", "tag": "vip"})
        view_id = view.id
    assert "Mine" in m1.get("/ui/clients").text
    assert "Mine" not in browse("M2").get("/ui/clients").text
    assert browse("M2").post(f"/ui/clients/views/{view_id}/delete").status_code == 404
    # filtering by an owner outside the scope cannot be saved either
    outside = m1.post("/ui/clients/views", {"name": "Theirs",
                                            "query": f"owner_id={people.users['M2']}"})
    assert outside.status_code == 403
    assert _count(engine, SavedView) == 1


def test_board_move_records_history_and_a_refused_move_says_why(people, browse, engine):
    sales = create_pipeline(people, strict_order=True)
    deal_id = _deal(people, "M1", "C1", "Fridge for the office")
    m1 = browse("M1")
    board = m1.get("/ui/board")
    assert board.status_code == 200 and "Fridge for the office" in board.text
    # strict order: New → Proposal skips Qualified; refused, the reason shown, nothing stored
    refused = m1.post("/ui/board/move", {"deal_id": deal_id, "stage_id": sales.stages["Proposal"]},
                      htmx=True)
    assert refused.status_code == 409
    assert refused.headers["HX-Retarget"] == "#flash"
    assert "Qualified" in refused.text
    with unit_of_work(engine) as session:
        assert session.get(Deal, deal_id).stage_id == sales.stages["New"]
    assert _count(engine, DealStageChange, DealStageChange.deal_id == deal_id) == 1
    moved = m1.post("/ui/board/move", {"deal_id": deal_id, "stage_id": sales.stages["Qualified"]},
                    htmx=True)
    assert moved.status_code == 200, moved.text
    with unit_of_work(engine) as session:
        assert session.get(Deal, deal_id).stage_id == sales.stages["Qualified"]
    assert _count(engine, DealStageChange, DealStageChange.deal_id == deal_id) == 2


def test_another_managers_deal_cannot_be_moved(people, browse, engine):
    sales = create_pipeline(people)
    deal_id = _deal(people, "M2", "C2", "Their deal")
    m1 = browse("M1")
    assert "Their deal" not in m1.get("/ui/board").text
    response = m1.post("/ui/board/move", {"deal_id": deal_id, "stage_id": sales.stages["Won"]},
                       htmx=True)
    assert response.status_code == 404
    with unit_of_work(engine) as session:
        assert session.get(Deal, deal_id).stage_id == sales.stages["New"]


def test_quick_actions_write_through_the_services(people, browse, engine):
    create_pipeline(people)
    m1 = browse("M1")
    url = f"/ui/clients/{people.clients['C1']}"
    call = m1.post(url + "/activities", {"kind": "call", "direction": "outbound",
                                         "call_status": "answered", "talk_seconds": "95",
                                         "subject": "Delivery date"}, htmx=True)
    assert call.status_code == 200 and "Delivery date" in call.text
    task = m1.post(url + "/activities", {"kind": "task", "subject": "Send the invoice",
                                         "due_at": "2030-01-15T10:00"}, htmx=True)
    assert task.status_code == 200
    deal = m1.post(url + "/deals", {"title": "Washer", "amount": "45 000,50"}, htmx=True)
    assert deal.status_code == 200 and "Washer" in deal.text
    with unit_of_work(engine) as session:
        activities = session.scalars(select(Activity).order_by(Activity.id)).all()
        assert [(a.kind.value, a.talk_seconds) for a in activities] == [
            ("call", 95), ("task", None)]
        # 10:00 Moscow time (UTC+3) is 07:00 UTC
        assert activities[1].due_at.isoformat() == "2030-01-15T07:00:00+00:00"
        assert str(session.scalars(select(Deal)).one().amount) == "45000.50"
    assert "Send the invoice" in m1.get("/ui/tasks").text
    # a bad value names the field and writes nothing
    bad = m1.post(url + "/activities", {"kind": "call", "direction": "sideways",
                                        "call_status": "answered"}, htmx=True)
    assert bad.status_code == 422 and "direction" in bad.text
    assert _count(engine, Activity) == 2


def test_client_export_follows_the_export_right(people, browse):
    assert browse("M1").get("/ui/clients?export=csv&table=clients").status_code == 403
    exported = browse("H").get("/ui/clients?export=csv&table=clients")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[0] == "Имя"
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["Client C1", "Client C2"]


def test_every_work_page_renders_for_each_role(people, browse):
    create_pipeline(people)
    _deal(people, "M1", "C1", "Fridge")
    expected = {
        "X": {"/ui/clients": 200, "/ui/board": 200, "/ui/tasks": 200, "/ui/orders": 200},
        "M1": {"/ui/clients": 200, "/ui/board": 200, "/ui/tasks": 200, "/ui/orders": 200},
        "K": {"/ui/clients": 403, "/ui/board": 403, "/ui/tasks": 403, "/ui/orders": 403},
        "A": {"/ui/clients": 403, "/ui/board": 403, "/ui/tasks": 403, "/ui/orders": 403},
    }
    for who, pages in expected.items():
        browser = browse(who)
        got = {url: browser.get(url).status_code for url in pages}
        assert got == pages, who


def _client_listings(engine) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "client", AuditEvent.action == "list"))


def test_client_analytics_shows_marketers_aggregates_without_client_names(
        people, browse, engine, monkeypatch):
    # the pages speak Russian by default: "Financial rating" lists clients by name, the
    # summary ("Clients by group, ABC class and RFM segment") only counts them
    monkeypatch.setattr(get_settings(), "analytics_refresh_seconds", 3600)  # cache on
    create_pipeline(people)
    _deal(people, "M1", "C1", "Fridge")
    before = _client_listings(engine)
    for _ in range(2):  # client rows skip the cache: every visit lists them, audited
        admin = browse("X").get("/ui/client-analytics")
        assert admin.status_code == 200 and "Финансовый рейтинг" in admin.text
    assert _client_listings(engine) == before + 4  # the rating and the RFM rows, twice
    for who in ("K", "A"):
        page = browse(who).get("/ui/client-analytics")
        assert page.status_code == 200, (who, page.text[:500])
        assert "Финансовый рейтинг" not in page.text and "Client C1" not in page.text
        assert "Клиенты по группам, классам ABC и сегментам RFM" in page.text
