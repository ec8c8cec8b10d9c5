"""Fixtures of the web interface tests: browsers' sessions signed in through the sign-in form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures import PASSWORD, Cast, email_of
from voronka.web.app import create_app

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A TestClient with the session cookie of one person and their page CSRF token."""

    client: TestClient
    csrf: str

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, *, token: bool = True,
             htmx: bool = False, **kwargs: Any) -> Any:
        body = dict(data or {})
        if token:
            body["csrf_token"] = self.csrf
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(url, data=body, headers=headers, follow_redirects=False,
                                **kwargs)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    form = client.get("/ui/login")
    token = FORM_CSRF.search(form.text)
    assert token, form.text
    return client.post("/ui/login", data={"email": email, "password": password,
                                          "csrf_token": token.group(1), "next": "/ui/clients"},
                       follow_redirects=False)


@pytest.fixture
def browse(people: Cast) -> Iterator[Any]:
    """``browse("M1")``: a signed-in browser session of a cast member."""
    opened: list[TestClient] = []

    def open_as(who: str) -> Browser:
        client = TestClient(create_app(people.app_engine))
        opened.append(client)
        response = sign_in(client, email_of(who))
        assert response.status_code == 303, response.text
        page = client.get("/ui/tasks")
        match = CSRF.search(page.text)
        assert match, page.text
        return Browser(client, match.group(1))

    yield open_as
    for client in opened:
        client.close()
