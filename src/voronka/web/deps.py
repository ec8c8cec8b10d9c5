"""Request dependencies: the transaction, the actor and the authorisation grant.

Every API route depends on :func:`authorize` (or is listed in ``PUBLIC_ROUTES``); a test
walks the routes and fails on any route without a declared policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from voronka.access.actor import Actor, ActorKind
from voronka.access.policy import Action, Scope, require
from voronka.db.session import unit_of_work
from voronka.errors import Forbidden, NotAuthenticated
from voronka.user import credential

SESSION_COOKIE = "voronka_session"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ROUTES = frozenset({"/api/v1/auth/login", "/api/v1/health", "/api/v1/openapi.json"}) | {
    # telephony webhooks: each authenticated by its provider's signature (web/api/v1/hooks.py)
    "/api/v1/hooks/generic",
    "/api/v1/hooks/zadarma",
    "/api/v1/hooks/mango/events/{event}",
    "/api/v1/hooks/asterisk/events",
    # site tracker and lead forms: site/form keys, origins, bot rules, rate limits (collect.py)
    "/api/v1/collect",
    "/api/v1/collect/number",
    "/api/v1/forms/{form_key}",
}


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    write = request.method not in READ_METHODS
    with unit_of_work(request.app.state.engine, write=write) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def secret_from(request: Request) -> str | None:
    """The bearer token, else the session cookie, that authenticates ``request``."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def current_actor(request: Request, session: DbSession) -> Actor:
    """Resolve the bearer token or session cookie to an actor, or raise 401."""
    secret = secret_from(request)
    resolved = credential.resolve(session, secret) if secret else None
    if resolved is None:
        raise NotAuthenticated("sign in or send a valid API token")
    user, token = resolved
    return Actor(
        user_id=user.id,
        workspace_id=user.workspace_id,
        role=user.role,
        team_id=user.team_id,
        kind=ActorKind.TOKEN if token else ActorKind.USER,
        read_only=bool(token and token.read_only),
        request_id=request.state.request_id,
        ip=request.client.host if request.client else None,
    )


CurrentActor = Annotated[Actor, Depends(current_actor)]


@dataclass(frozen=True)
class Grant:
    """What the policy allowed this request: the actor and their record scope."""

    actor: Actor
    scope: Scope
    resource: str
    action: Action


def authorize(resource: str, action: Action) -> Callable[..., Grant]:
    """A dependency that lets the request through only when the policy allows it."""

    def dependency(request: Request, actor: CurrentActor) -> Grant:
        if actor.read_only and request.method not in READ_METHODS:
            raise Forbidden("this API token is read-only")
        return Grant(actor, require(actor, resource, action), resource, action)

    dependency.__policy__ = (resource, action)  # type: ignore[attr-defined]
    return dependency


def grant(resource: str, action: Action) -> object:
    """``Annotated`` metadata for a route parameter: ``g: Annotated[Grant, grant(...)]``."""
    return Depends(authorize(resource, action))
