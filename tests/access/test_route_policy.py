"""Every API route declares a policy (or is public) and refuses anonymous callers.

RELIABILITY B1 1 and 18. The routes are found by walking the API router when the tests are
collected, so routes added later are covered without editing this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tests.access.support import assert_error_shape
from voronka.access.policy import POLICY, Action
from voronka.web.api import v1
from voronka.web.deps import PUBLIC_ROUTES, Grant, authorize, grant

API_PREFIX = "/api/v1"
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class FoundRoute:
    """An API route with its full path and the dependencies its include chain adds."""

    path: str
    route: APIRoute
    inherited: tuple[Any, ...]

    @property
    def is_public(self) -> bool:
        return self.path in PUBLIC_ROUTES

    def calls(self) -> Iterator[tuple[str, str]]:
        """(method, concrete path) with every path parameter set to 1."""
        for method in sorted(self.route.methods or ()):
            yield method, PATH_PARAMETER.sub("1", self.path)


def walk(
    routes: Iterable[Any], prefix: str = API_PREFIX, inherited: tuple[Any, ...] = ()
) -> Iterator[FoundRoute]:
    """Yield every APIRoute below ``routes``, descending into included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI ≥ 0.165 wraps included routers
            context = route.include_context
            yield from walk(
                included.routes, prefix + context.prefix, inherited + tuple(context.dependencies)
            )
        elif isinstance(route, APIRoute):
            yield FoundRoute(prefix + route.path, route, inherited)


def declared_policies(found: FoundRoute) -> set[tuple[str, Action]]:
    """The (resource, action) of every ``authorize`` dependency anywhere in the route's tree."""
    policies = {
        dependency.dependency.__policy__
        for dependency in found.inherited
        if hasattr(dependency.dependency, "__policy__")
    }
    pending: list[Dependant] = [found.route.dependant]
    while pending:
        dependant = pending.pop()
        policy = getattr(dependant.call, "__policy__", None)
        if policy is not None:
            policies.add(policy)
        pending.extend(dependant.dependencies)
    return policies


ROUTES = list(walk(v1.router.routes))
PROTECTED_CALLS = [
    (method, path) for found in ROUTES if not found.is_public for method, path in found.calls()
]


def _route_id(found: FoundRoute) -> str:
    return f"{','.join(sorted(found.route.methods or ()))} {found.path}"


def test_the_walk_sees_nested_routers_and_their_include_dependencies():
    inner = APIRouter(prefix="/inner")

    @inner.get("/open")
    def open_route() -> None: ...

    @inner.get("/guarded")
    def guarded_route(g: Annotated[Grant, grant("client", Action.READ)]) -> None: ...

    middle = APIRouter()
    middle.include_router(
        inner, prefix="/m", dependencies=[Depends(authorize("deal", Action.READ))]
    )
    middle.include_router(inner, prefix="/bare")
    outer = APIRouter()
    outer.include_router(middle)
    found = {route.path: declared_policies(route) for route in walk(outer.routes)}
    assert found == {
        "/api/v1/m/inner/open": {("deal", Action.READ)},
        "/api/v1/m/inner/guarded": {("deal", Action.READ), ("client", Action.READ)},
        "/api/v1/bare/inner/open": set(),
        "/api/v1/bare/inner/guarded": {("client", Action.READ)},
    }


def test_the_walk_finds_the_routes_of_every_domain():
    paths = {found.path for found in ROUTES}
    assert {
        "/api/v1/auth/login",
        "/api/v1/users/{user_id}",
        "/api/v1/clients/{client_id}",
        "/api/v1/audit-events",
    } <= paths


@pytest.mark.parametrize("found", ROUTES, ids=_route_id)
def test_every_route_declares_a_known_policy_or_is_public(found: FoundRoute):
    policies = declared_policies(found)
    if found.is_public:
        return
    assert policies, (
        f"{_route_id(found)} has no authorize(...) dependency; add one or list it in PUBLIC_ROUTES"
    )
    for resource, action in policies:
        assert action in POLICY.get(resource, {}), (
            f"{_route_id(found)} names ({resource!r}, {action.value!r}), "
            "which voronka.access.policy.POLICY does not declare"
        )


def test_public_routes_exist_and_answer_anonymously(anonymous):
    served = {found.path for found in ROUTES} | {"/api/v1/openapi.json"}
    assert served >= PUBLIC_ROUTES, "PUBLIC_ROUTES names a path that no longer exists"
    assert anonymous.get("/api/v1/health").status_code == 200
    assert anonymous.get("/api/v1/openapi.json").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"), PROTECTED_CALLS, ids=[f"{m} {p}" for m, p in PROTECTED_CALLS]
)
def test_protected_route_refuses_anonymous_and_forged_credentials(anonymous, method, path):
    assert_error_shape(anonymous.request(method, path), 401)
    forged = {"Authorization": "Bearer vs_forged-session-secret"}
    assert_error_shape(anonymous.request(method, path, headers=forged), 401)
    anonymous.cookies.set("voronka_session", "vt_forged-token-secret")
    try:
        assert_error_shape(anonymous.request(method, path), 401)
    finally:
        anonymous.cookies.clear()
