"""The web interface's routes (``/ui/…``) and its static files, added to the application."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from voronka.web.ui.pages import (
    board,
    clients,
    dashboard,
    drill,
    reports,
    settings,
    signin,
    work,
)
from voronka.web.ui.render import UiRoute

STATIC = Path(__file__).parent / "static"
PAGES = (signin, dashboard, reports, drill, clients, board, work, settings)


def build_router() -> APIRouter:
    router = APIRouter(route_class=UiRoute, include_in_schema=False)
    for module in PAGES:
        router.include_router(module.router)
    return router


def install(app: FastAPI) -> None:
    """Serve the pages under /ui/ and their assets under /ui/static/ (no CDN)."""
    app.include_router(build_router())
    app.mount("/ui/static", StaticFiles(directory=STATIC, check_dir=False), name="ui-static")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/ui", include_in_schema=False)
    def ui_home() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)
