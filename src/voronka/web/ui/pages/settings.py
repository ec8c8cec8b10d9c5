"""Settings: pipelines and stages, channels and campaigns, tracking numbers, users and roles,
integrations (webhook addresses, last inbound events), imports; and the progress of long work.

Each section shows only when the viewer's role may read (and, for changes, write) it.
Long work (imports, jobs) shows progress that the page polls while it runs; the page can be
left and opened again at any time.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from voronka.access.policy import Action, Scope, scope_for
from voronka.access.scope import owner_condition
from voronka.campaign import repository as campaign_repository
from voronka.campaign.models import Campaign, Channel, TrackingNumber
from voronka.errors import NotFound
from voronka.jobs.models import Job
from voronka.pipeline import repository as pipeline_repository
from voronka.pipeline import service as pipeline_service
from voronka.pipeline.models import StageKind
from voronka.pipeline.schemas import StageAdd
from voronka.user import repository as user_repository
from voronka.user.models import User
from voronka.web.deps import DbSession
from voronka.web.ui.auth import PageGrant, Viewer, page_grant
from voronka.web.ui.pages.common import form_int, validated
from voronka.web.ui.render import UiRoute, render

router = APIRouter(route_class=UiRoute)
PipelineAdmin = Annotated[PageGrant, Depends(page_grant("pipeline", Action.UPDATE))]
SettingsReader = Annotated[PageGrant, Depends(page_grant("pipeline", Action.READ))]
JobReader = Annotated[PageGrant, Depends(page_grant("job", Action.READ))]
HOOK_ADDRESSES = (
    ("generic", "/api/v1/hooks/generic"),
    ("asterisk", "/api/v1/hooks/asterisk/events"),
    ("zadarma", "/api/v1/hooks/zadarma"),
    ("mango", "/api/v1/hooks/mango/events/{event}"),
)


def _can(viewer: Viewer, resource: str, action: Action = Action.READ) -> bool:
    return scope_for(viewer.actor, resource, action) is not Scope.NONE


def _optional(module: str, name: str) -> Any:
    """A model another part of the product may not have installed yet (``None`` then)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _inbound_events(session: Session, viewer: Viewer) -> list[Any] | None:
    model = _optional("voronka.integrations.inbound", "InboundEvent")
    if model is None:
        return None
    return list(session.scalars(
        select(model).where(model.workspace_id == viewer.actor.workspace_id)
        .order_by(model.received_at.desc()).limit(20)
    ))


def _import_runs(session: Session, viewer: Viewer) -> list[Any] | None:
    model = _optional("voronka.transfer.models", "ImportRun")
    if model is None:
        return None
    query = select(model).where(model.workspace_id == viewer.actor.workspace_id)
    if viewer.actor.role.value != "admin":
        query = query.where(model.created_by_id == viewer.actor.user_id)
    return list(session.scalars(query.order_by(model.id.desc()).limit(20)))


@router.get("/ui/settings")
def settings_page(request: Request, session: DbSession, g: SettingsReader) -> Response:
    viewer, actor = g.viewer, g.actor
    context: dict[str, Any] = {"title": "Settings"}
    context["pipelines"] = session.scalars(pipeline_repository.of_workspace(actor)).all()
    context["can_edit_pipelines"] = _can(viewer, "pipeline", Action.UPDATE)
    context["channels"] = session.scalars(
        campaign_repository.channels_of(actor.workspace_id).order_by(Channel.name)).all()
    context["campaigns"] = session.scalars(
        campaign_repository.campaigns_of(actor.workspace_id).order_by(Campaign.name)).all()
    context["numbers"] = session.scalars(
        select(TrackingNumber).where(TrackingNumber.workspace_id == actor.workspace_id)
        .order_by(TrackingNumber.id)).all()
    user_scope = scope_for(actor, "user", Action.READ)
    context["users"] = session.scalars(
        user_repository.visible_to(actor, user_scope).order_by(User.name)).all()
    admin = _can(viewer, "user", Action.UPDATE)
    context["admin"] = admin
    context["hooks"] = HOOK_ADDRESSES if admin else ()
    context["events"] = _inbound_events(session, viewer) if admin else None
    context["imports"] = _import_runs(session, viewer) if _can(viewer, "client", Action.IMPORT) else None
    context["stage_kinds"] = [k.value for k in StageKind]
    return render(request, "settings.html", context)


@router.post("/ui/settings/pipelines/{pipeline_id}/stages")
def add_stage(
    pipeline_id: int, session: DbSession, g: PipelineAdmin,
    name: Annotated[str, Form(max_length=200)],
    kind: Annotated[str, Form(max_length=10)] = "open",
    probability: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    pipeline = pipeline_repository.get(session, g.actor, pipeline_id)
    if pipeline is None:
        raise NotFound("no such pipeline")
    data = validated(StageAdd, {"name": name, "kind": kind,
                                "probability": form_int(probability, "probability")})
    pipeline_service.add_stage(session, actor=g.actor, pipeline=pipeline, data=data)
    return RedirectResponse("/ui/settings#pipelines", status_code=303)


@router.get("/ui/jobs/{job_id}")
def job_progress(job_id: int, request: Request, session: DbSession, g: JobReader) -> Response:
    """A job's progress; the fragment re-polls itself every two seconds until the job ends."""
    job = session.execute(select(Job).where(
        Job.id == job_id, Job.workspace_id == g.actor.workspace_id,
        owner_condition(Job.created_by_id, g.actor, g.scope),
    )).scalar_one_or_none()
    if job is None:
        raise NotFound(f"no job {job_id}")
    template = "_job.html" if request.headers.get("hx-request") == "true" else "job.html"
    return render(request, template, {"title": "Progress", "job": job})
