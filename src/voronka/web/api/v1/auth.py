"""Sign-in, sign-out, the current user, and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Action
from voronka.audit import service as audit
from voronka.config import get_settings
from voronka.errors import NotFound
from voronka.user import credential
from voronka.user import service as user_service
from voronka.user.models import ApiToken, User, UserSession
from voronka.user.schemas import (
    LoginIn,
    LoginOut,
    MeUpdate,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserOut,
)
from voronka.web.deps import SESSION_COOKIE, DbSession, Grant, grant, secret_from

router = APIRouter(tags=["auth"])
Me = Annotated[Grant, grant("user", Action.READ)]


@router.get("/health", summary="Liveness check (public)")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "/auth/login",
    response_model=LoginOut,
    summary="Sign in with e-mail and password",
    responses={401: {"description": "Wrong e-mail or password"}},
)
def login(body: LoginIn, request: Request, response: Response, session: DbSession) -> LoginOut:
    ip = request.client.host if request.client else None
    user = user_service.authenticate(session, email=body.email, password=body.password, ip=ip)
    secret = credential.open_session(session, user, ip=ip)
    actor = Actor(
        user.id,
        user.workspace_id,
        user.role,
        user.team_id,
        request_id=request.state.request_id,
        ip=ip,
    )
    audit.record(session, actor, action="sign_in", entity="user", entity_id=user.id)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=get_settings().profile == "production",
        max_age=get_settings().session_ttl_hours * 3600,
    )
    return LoginOut(token=secret, user=UserOut.model_validate(user))


@router.post("/auth/logout", status_code=204, summary="End the current session")
def logout(request: Request, response: Response, session: DbSession, g: Me) -> Response:
    secret = secret_from(request) or ""
    row = session.scalar(
        select(UserSession).where(UserSession.token_hash == credential.digest(secret))
    )
    if row is not None:
        row.revoked_at = clock.now()
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response


@router.get("/auth/me", response_model=UserOut, summary="The signed-in user")
def me(session: DbSession, g: Me) -> UserOut:
    return UserOut.model_validate(session.get(User, g.actor.user_id))


@router.patch("/auth/me", response_model=UserOut, summary="Change own name or language")
def update_me(body: MeUpdate, session: DbSession, g: Me) -> UserOut:
    user = session.get(User, g.actor.user_id)
    assert user is not None
    for field, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(user, field, value)
    session.flush()
    return UserOut.model_validate(user)


@router.get("/auth/tokens", response_model=list[TokenOut], summary="Own API tokens")
def list_tokens(session: DbSession, g: Annotated[Grant, grant("api_token", Action.READ)]):  # type: ignore[no-untyped-def]
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == g.actor.user_id).order_by(ApiToken.id)
    )
    return [TokenOut.model_validate(t) for t in rows]


@router.post(
    "/auth/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="Issue an API token acting as the signed-in user",
)
def create_token(
    body: TokenIn, session: DbSession, g: Annotated[Grant, grant("api_token", Action.CREATE)]
) -> TokenCreated:
    user = session.get(User, g.actor.user_id)
    assert user is not None
    token, secret = credential.issue_token(
        session, user, name=body.name, read_only=body.read_only, days=body.days
    )
    audit.record(session, g.actor, action="create", entity="api_token", entity_id=token.id)
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), secret=secret)


@router.delete(
    "/auth/tokens/{token_id}",
    status_code=204,
    summary="Revoke an own API token",
    responses={404: {"description": "No such token of yours"}},
)
def revoke_token(
    token_id: int, session: DbSession, g: Annotated[Grant, grant("api_token", Action.DELETE)]
) -> Response:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != g.actor.user_id:
        raise NotFound("no such API token")
    token.revoked_at = token.revoked_at or clock.now()
    audit.record(session, g.actor, action="delete", entity="api_token", entity_id=token.id)
    return Response(status_code=204)
