"""Templates (autoescaped Jinja2), the navigation each role sees, and HTML error pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from voronka.access.policy import Action, Scope, scope_for
from voronka.config import get_settings
from voronka.errors import VoronkaError
from voronka.web.deps import READ_METHODS
from voronka.web.ui import i18n
from voronka.web.ui.auth import CsrfRefused, SignInRequired, Viewer, check_csrf

HERE = Path(__file__).parent
ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
templates = Jinja2Templates(env=ENV)
ENV.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)

ROLE_NAMES = {
    "admin": "Admin",
    "head_of_sales": "Head of sales",
    "sales_manager": "Sales manager",
    "marketer": "Marketer",
    "analyst": "Analyst",
}


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    resource: str
    action: Action = Action.READ
    needs_company_wide: bool = False


NAV: dict[str, list[NavItem]] = {
    "Work": [
        NavItem("/ui/clients", "Clients", "client"),
        NavItem("/ui/board", "Pipeline", "deal"),
        NavItem("/ui/tasks", "Tasks", "activity"),
        NavItem("/ui/orders", "Orders", "order"),
        NavItem("/ui/products", "Products", "product"),
    ],
    "Analytics": [
        NavItem("/ui/", "Overview", "report"),
        NavItem("/ui/funnel", "Funnel", "report"),
        NavItem("/ui/channels", "Channels & attribution", "ad_spend", needs_company_wide=True),
        NavItem("/ui/managers", "Managers", "report"),
        NavItem("/ui/calls", "Calls", "report"),
        NavItem("/ui/client-analytics", "Client analytics", "report"),
        NavItem("/ui/cohorts", "Cohorts & LTV", "ad_spend", needs_company_wide=True),
        NavItem("/ui/forecast", "Forecast", "report"),
        NavItem("/ui/experiments", "Experiments", "ad_spend", needs_company_wide=True),
    ],
    "Administration": [
        NavItem("/ui/settings", "Settings", "pipeline", Action.UPDATE),
    ],
}


def company_wide(viewer: Viewer) -> bool:
    """Whether the viewer's reports cover the whole company (needed for spend figures)."""
    actor = viewer.actor
    return (
        scope_for(actor, "report", Action.READ) is Scope.ALL
        and scope_for(actor, "ad_spend", Action.READ) is not Scope.NONE
    )


def can_open(viewer: Viewer, item: NavItem) -> bool:
    if scope_for(viewer.actor, item.resource, item.action) is Scope.NONE:
        return False
    return company_wide(viewer) if item.needs_company_wide else True


def navigation(viewer: Viewer) -> list[tuple[str, list[NavItem]]]:
    groups = [(title, [i for i in items if can_open(viewer, i)]) for title, items in NAV.items()]
    marketing_setup = scope_for(viewer.actor, "channel", Action.UPDATE) is not Scope.NONE
    groups = [
        (
            title,
            items
            if title != "Administration" or items or not marketing_setup
            else [NavItem("/ui/settings", "Settings", "channel", Action.UPDATE)],
        )
        for title, items in groups
    ]
    return [(title, items) for title, items in groups if items]


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters replaced (``None`` removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def to_json(value: Any) -> Markup:
    """JSON for a ``data-`` attribute: escaped as text by Jinja, parsed by app.js."""
    return Markup.escape(json.dumps(value, ensure_ascii=False, default=str))


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    language: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``name`` with the frame's context: viewer, language, formatter, CSRF, nav."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    lang = language or (
        viewer.language
        if viewer
        else i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))
    )
    settings = get_settings()
    base = {
        "request": request,
        "viewer": viewer,
        "lang": lang,
        "t": lambda message: i18n.translate(lang, message),
        "fmt": i18n.Formatter(lang, settings.default_currency),
        "zone": ZoneInfo(settings.timezone),
        "csrf": viewer.csrf if viewer else context.get("login_csrf", ""),
        "nav": navigation(viewer) if viewer else [],
        "url_with": lambda **changes: url_with(request, **changes),
        "to_json": to_json,
        "quote": quote,
        "is_htmx": request.headers.get("hx-request") == "true",
        "role_names": ROLE_NAMES,
    }
    response = templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status, headers=headers
    )
    return response


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    if request.headers.get("hx-request") == "true":
        headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return render(
            request, "_flash.html", {"kind": "error", "message": message},
            status=status, headers=headers,
        )
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def _sign_in_redirect(request: Request) -> Response:
    target = "/ui/login?next=" + quote(request.url.path)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


class UiRoute(APIRoute):
    """A page route: CSRF check on writes, sign-in redirect, errors rendered as HTML."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                if request.method not in READ_METHODS:
                    await check_csrf(request)
                response = await handler(request)
            except SignInRequired:
                return _sign_in_redirect(request)
            except CsrfRefused:
                response = _error_page(
                    request, 403, "Access denied",
                    "the form is out of date or was not sent by this site; reload the page",
                )
            except RequestValidationError as exc:
                fields = ", ".join(
                    str(e["loc"][-1]) for e in exc.errors() if e.get("loc")
                ) or "the request"
                response = _error_page(request, 422, "Refused", f"check the field(s): {fields}")
            except VoronkaError as exc:
                title = {403: "Access denied", 404: "Not found"}.get(exc.status, "Refused")
                response = _error_page(request, exc.status, title, exc.message)
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return page
