"""Sign-in, the session cookie, sign-out and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.access.support import assert_error_shape, without_request_id
from tests.fixtures import PASSWORD, email_of
from voronka.audit.models import AuditEvent
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.user.models import User

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _sign_in(client: TestClient, who: str = "M1") -> str:
    response = client.post(LOGIN, json={"email": email_of(who), "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_wrong_password_unknown_email_and_inactive_account_look_the_same(people, engine, anonymous):
    with unit_of_work(engine) as session:
        session.execute(update(User).where(User.id == people.users["M2"]).values(is_active=False))
    attempts = [
        {"email": email_of("M1"), "password": "wrong password!"},
        {"email": "nobody@test.voronka.local", "password": PASSWORD},
        {"email": email_of("M2"), "password": PASSWORD},
    ]
    responses = [anonymous.post(LOGIN, json=attempt) for attempt in attempts]
    for response in responses:
        assert assert_error_shape(response, 401)["message"] == "wrong e-mail or password"
        assert "set-cookie" not in response.headers
    assert len({str(without_request_id(r)) for r in responses}) == 1
    assert len({frozenset(r.headers) for r in responses}) == 1


def test_session_cookie_is_http_only_and_same_site_strict(people, anonymous):
    response = anonymous.post(LOGIN, json={"email": email_of("M1"), "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"voronka_session={response.json()['token']};")
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert f"max-age={get_settings().session_ttl_hours * 3600}" in cookie.lower()
    assert anonymous.get(ME).json()["email"] == email_of("M1")


def test_logout_revokes_the_session_on_the_server(people, anonymous):
    secret = _sign_in(anonymous)
    assert anonymous.post("/api/v1/auth/logout").status_code == 204
    assert "voronka_session" not in anonymous.cookies
    assert_error_shape(anonymous.get(ME, headers=_bearer(secret)), 401)


def test_logout_with_a_bearer_session_revokes_it(people, anonymous):
    secret = _sign_in(anonymous)
    anonymous.cookies.clear()
    assert anonymous.post("/api/v1/auth/logout", headers=_bearer(secret)).status_code == 204
    assert_error_shape(anonymous.get(ME, headers=_bearer(secret)), 401)


def test_logout_revokes_the_session_that_authenticated_the_request(people, anonymous):
    cookie_secret = _sign_in(anonymous)
    bearer_secret = _sign_in(anonymous)
    anonymous.cookies.clear()
    both = {**_bearer(bearer_secret), "Cookie": f"voronka_session={cookie_secret}"}
    assert anonymous.post("/api/v1/auth/logout", headers=both).status_code == 204
    assert_error_shape(anonymous.get(ME, headers=_bearer(bearer_secret)), 401)


def test_session_expires_after_its_lifetime(people, anonymous, freeze_clock):
    freeze_clock(T0)
    secret = _sign_in(anonymous)
    lifetime = timedelta(hours=get_settings().session_ttl_hours)
    freeze_clock(T0 + lifetime - timedelta(seconds=1))
    assert anonymous.get(ME, headers=_bearer(secret)).status_code == 200
    freeze_clock(T0 + lifetime)
    assert_error_shape(anonymous.get(ME, headers=_bearer(secret)), 401)


def test_api_token_expires_after_its_days(people, freeze_clock):
    freeze_clock(T0)
    api = people.http("M1")
    token = api.post("/api/v1/auth/tokens", json={"name": "short", "days": 1}).json()["secret"]
    freeze_clock(T0 + timedelta(days=1))
    assert_error_shape(api.get(ME, headers=_bearer(token)), 401)


def test_sign_in_is_audited(people, engine, anonymous):
    _sign_in(anonymous, "M1")
    with unit_of_work(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == people.users["M1"])
        ).all()
    assert [(e.entity, e.entity_id) for e in events] == [("user", people.users["M1"])]
