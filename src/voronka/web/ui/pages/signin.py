"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from voronka import clock
from voronka.access.actor import Actor
from voronka.audit import service as audit
from voronka.config import get_settings
from voronka.errors import NotAuthenticated
from voronka.user import credential
from voronka.user import service as user_service
from voronka.user.models import UserSession
from voronka.web.deps import SESSION_COOKIE, DbSession
from voronka.web.ui import i18n
from voronka.web.ui.auth import LOGIN_CSRF_COOKIE, CurrentViewer, new_login_token
from voronka.web.ui.render import UiRoute, render

router = APIRouter(route_class=UiRoute)


def safe_next(target: str | None) -> str:
    """Only paths of the interface itself (no open redirect to another site)."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


def _form(request: Request, *, email: str = "", failed: str | None = None, status: int = 200,
          language: str | None = None) -> Response:
    token = new_login_token()
    response = render(request, "login.html", {
        "login_csrf": token, "next": safe_next(request.query_params.get("next")),
        "email": email, "failed": failed, "title": "Sign in",
    }, status=status, language=language)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=get_settings().profile == "production", path="/ui/login")
    return response


@router.get("/ui/login")
def login_form(request: Request) -> Response:
    return _form(request)


@router.post("/ui/login")
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/ui/",
    language: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    ip = request.client.host if request.client else None
    try:
        user = user_service.authenticate(session, email=email, password=password, ip=ip)
    except NotAuthenticated:
        lang = language if language in i18n.LANGUAGES else None
        return _form(request, email=email, failed="Wrong e-mail or password", status=401,
                     language=lang)
    secret = credential.open_session(session, user, ip=ip)
    actor = Actor(user.id, user.workspace_id, user.role, user.team_id,
                  request_id=request.state.request_id, ip=ip)
    audit.record(session, actor, action="sign_in", entity="user", entity_id=user.id)
    response = RedirectResponse(safe_next(next), status_code=303)
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="strict",
                        secure=settings.profile == "production",
                        max_age=settings.session_ttl_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


@router.post("/ui/logout")
def logout(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    secret = request.cookies.get(SESSION_COOKIE, "")
    row = session.scalar(
        select(UserSession).where(UserSession.token_hash == credential.digest(secret))
    )
    if row is not None:
        row.revoked_at = clock.now()
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/ui/language")
def switch_language(
    session: DbSession,
    viewer: CurrentViewer,
    language: Annotated[str, Form(max_length=5)],
    next: Annotated[str, Form(max_length=2000)] = "/ui/",
) -> Response:
    if language in i18n.LANGUAGES:
        viewer.user.language = language
        session.flush()
    return RedirectResponse(safe_next(next), status_code=303)
