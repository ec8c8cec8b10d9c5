"""People's sessions in the browser: the session cookie, CSRF tokens and page grants.

The cookie is the one ``POST /api/v1/auth/login`` sets (a ``UserSession`` secret). Every
state-changing request of the interface carries a CSRF token: an HMAC of the session secret
(so it cannot be computed without the cookie, which scripts of other sites cannot read), sent
as the ``csrf_token`` form field or the ``X-CSRF-Token`` header (HTMX). The sign-in form,
which has no session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from voronka.access.actor import Actor, ActorKind
from voronka.access.policy import Action, Scope, require
from voronka.user import credential
from voronka.user.models import User
from voronka.web.deps import SESSION_COOKIE, DbSession

LOGIN_CSRF_COOKIE = "voronka_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No valid session: the interface sends the browser to the sign-in page."""


class CsrfRefused(Exception):
    """A state-changing request without the right CSRF token."""


def csrf_token(session_secret: str) -> str:
    """The CSRF token of a sign-in session (stable for the session's life)."""
    return hmac.new(session_secret.encode(), b"voronka-ui-csrf", hashlib.sha256).hexdigest()


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request whose token does not match the session's."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    secret = request.cookies.get(SESSION_COOKIE)
    if request.url.path == "/ui/login":
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        expected = csrf_token(secret) if secret else None
    if not tokens_match(expected, given):
        raise CsrfRefused()


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: who they are for the policy, and how to talk to them."""

    actor: Actor
    user: User
    csrf: str

    @property
    def language(self) -> str:
        return self.user.language if self.user.language in ("ru", "en") else "ru"


def current_viewer(request: Request, session: DbSession) -> Viewer:
    """The person behind the session cookie (API tokens do not open the interface)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or not secret.startswith(credential.SESSION_PREFIX):
        raise SignInRequired()
    resolved = credential.resolve(session, secret)
    if resolved is None:
        raise SignInRequired()
    user, _ = resolved
    actor = Actor(
        user_id=user.id,
        workspace_id=user.workspace_id,
        role=user.role,
        team_id=user.team_id,
        kind=ActorKind.USER,
        request_id=request.state.request_id,
        ip=request.client.host if request.client else None,
    )
    viewer = Viewer(actor, user, csrf_token(secret))
    request.state.viewer = viewer
    return viewer


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


@dataclass(frozen=True)
class PageGrant:
    """What the policy allowed this page: the viewer and their record scope."""

    viewer: Viewer
    scope: Scope

    @property
    def actor(self) -> Actor:
        return self.viewer.actor


def page_grant(resource: str, action: Action) -> Callable[..., PageGrant]:
    """A dependency letting the page through only when the policy allows it (else 403)."""

    def dependency(viewer: CurrentViewer) -> PageGrant:
        return PageGrant(viewer, require(viewer.actor, resource, action))

    dependency.__policy__ = (resource, action)  # type: ignore[attr-defined]
    return dependency


def allowed(viewer: Viewer, resource: str, action: Action = Action.READ) -> bool:
    from voronka.access.policy import scope_for

    return scope_for(viewer.actor, resource, action) is not Scope.NONE
