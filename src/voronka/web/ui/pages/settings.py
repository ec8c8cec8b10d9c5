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
from voronka.campaign import service as marketing
from voronka.campaign.models import Campaign, Channel, ChannelKind, TrackingKind, TrackingNumber
from voronka.campaign.schemas import (
    CampaignCreate,
    CampaignUpdate,
    ChannelCreate,
    ChannelUpdate,
    TrackingNumberCreate,
    TrackingNumberUpdate,
)
from voronka.errors import ErrorDetail, InvalidInput, NotFound
from voronka.jobs.models import Job
from voronka.pipeline import repository as pipeline_repository
from voronka.pipeline import service as pipeline_service
from voronka.pipeline.models import StageKind
from voronka.pipeline.schemas import StageAdd, StageUpdate
from voronka.user import repository as user_repository
from voronka.user import service as user_service
from voronka.user.models import Role, Team, User
from voronka.user.schemas import UserCreate, UserUpdate
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
    context["can_edit_channels"] = _can(viewer, "channel", Action.CREATE)
    context["can_edit_campaigns"] = _can(viewer, "campaign", Action.CREATE)
    context["can_edit_numbers"] = _can(viewer, "tracking_number", Action.CREATE)
    context["channel_kinds"] = [k.value for k in ChannelKind]
    context["channel_names"] = {c.id: c.name for c in context["channels"]}
    context["campaign_names"] = {c.id: c.name for c in context["campaigns"]}
    context["roles"] = [r.value for r in Role]
    context["teams"] = session.scalars(
        select(Team).where(Team.workspace_id == actor.workspace_id).order_by(Team.name)
    ).all() if admin else []
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


# -- changes (plain POST forms with the page's CSRF token; the same services as the API) ----

ChannelCreator = Annotated[PageGrant, Depends(page_grant("channel", Action.CREATE))]
ChannelEditor = Annotated[PageGrant, Depends(page_grant("channel", Action.UPDATE))]
CampaignCreator = Annotated[PageGrant, Depends(page_grant("campaign", Action.CREATE))]
CampaignEditor = Annotated[PageGrant, Depends(page_grant("campaign", Action.UPDATE))]
NumberCreator = Annotated[PageGrant, Depends(page_grant("tracking_number", Action.CREATE))]
NumberEditor = Annotated[PageGrant, Depends(page_grant("tracking_number", Action.UPDATE))]
UserCreator = Annotated[PageGrant, Depends(page_grant("user", Action.CREATE))]
UserEditor = Annotated[PageGrant, Depends(page_grant("user", Action.UPDATE))]
Text = Annotated[str, Form(max_length=300)]


def _back(section: str) -> Response:
    return RedirectResponse(f"/ui/settings#{section}", status_code=303)


def _optional_text(value: str) -> str | None:
    return value.strip() or None


def _checked(value: str) -> bool:
    return value in ("on", "true", "1", "yes")


@router.post("/ui/settings/channels")
def create_channel(
    session: DbSession, g: ChannelCreator,
    name: Text = "", slug: Text = "", kind: Text = "", is_paid: Text = "",
) -> Response:
    data = validated(ChannelCreate, {"name": name, "slug": slug, "kind": kind,
                                     "is_paid": _checked(is_paid)})
    marketing.create_channel(session, actor=g.actor, data=data)
    return _back("channels")


@router.post("/ui/settings/channels/{channel_id}")
def rename_channel(channel_id: int, session: DbSession, g: ChannelEditor,
                   name: Text = "") -> Response:
    channel = campaign_repository.get_channel(session, g.actor.workspace_id, channel_id)
    if channel is None:
        raise NotFound("no such channel")
    data = validated(ChannelUpdate, {"name": name})
    marketing.update_channel(session, actor=g.actor, channel=channel, data=data)
    return _back("channels")


@router.post("/ui/settings/campaigns")
def create_campaign(
    session: DbSession, g: CampaignCreator,
    name: Text = "", channel_id: Text = "", utm_source: Text = "", utm_medium: Text = "",
    utm_campaign: Text = "",
) -> Response:
    data = validated(CampaignCreate, {
        "name": name, "channel_id": form_int(channel_id, "channel_id"),
        "utm_source": _optional_text(utm_source), "utm_medium": _optional_text(utm_medium),
        "utm_campaign": _optional_text(utm_campaign),
    })
    marketing.create_campaign(session, actor=g.actor, data=data)
    return _back("channels")


@router.post("/ui/settings/campaigns/{campaign_id}")
def change_campaign(campaign_id: int, session: DbSession, g: CampaignEditor,
                    name: Text = "", is_active: Text = "") -> Response:
    campaign = campaign_repository.get_campaign(session, g.actor.workspace_id, campaign_id)
    if campaign is None:
        raise NotFound("no such campaign")
    data = validated(CampaignUpdate, {"name": name, "is_active": _checked(is_active)})
    marketing.update_campaign(session, actor=g.actor, campaign=campaign, data=data)
    return _back("channels")


@router.post("/ui/settings/numbers")
def create_number(
    session: DbSession, g: NumberCreator,
    number: Text = "", channel_id: Text = "", campaign_id: Text = "", description: Text = "",
) -> Response:
    data = validated(TrackingNumberCreate, {
        "number": number, "kind": TrackingKind.STATIC.value,
        "channel_id": form_int(channel_id, "channel_id"),
        "campaign_id": form_int(campaign_id, "campaign_id"),
        "description": _optional_text(description),
    })
    marketing.create_tracking_number(session, actor=g.actor, data=data)
    return _back("numbers")


@router.post("/ui/settings/numbers/{number_id}/active")
def set_number_active(number_id: int, session: DbSession, g: NumberEditor,
                      is_active: Text = "") -> Response:
    """Switch a number off (or on again): calls refer to numbers, so they are not deleted."""
    record = campaign_repository.get_number(session, g.actor.workspace_id, number_id)
    if record is None:
        raise NotFound("no such tracking number")
    data = validated(TrackingNumberUpdate, {"is_active": _checked(is_active)})
    marketing.update_tracking_number(session, actor=g.actor, record=record, data=data)
    return _back("numbers")


@router.post("/ui/settings/users")
def create_user(
    session: DbSession, g: UserCreator,
    email: Text = "", name: Text = "", role: Text = "", team_id: Text = "", password: Text = "",
) -> Response:
    data = validated(UserCreate, {
        "email": email, "name": name, "role": role, "team_id": form_int(team_id, "team_id"),
        "password": password or None,
    })
    user_service.create_user(session, actor=g.actor, email=data.email, name=data.name,
                             role=data.role, password=data.password, team_id=data.team_id)
    return _back("users")


@router.post("/ui/settings/users/{user_id}/role")
def change_role(user_id: int, session: DbSession, g: UserEditor, role: Text = "") -> Response:
    user = session.scalar(user_repository.visible_to(g.actor, g.scope).where(User.id == user_id))
    if user is None:
        raise NotFound("no such user")
    data = validated(UserUpdate, {"role": role})
    if data.role is None:
        raise InvalidInput("role: choose a role", [ErrorDetail("required", field="role")])
    user_service.set_role(session, actor=g.actor, user=user, role=data.role)
    return _back("users")


@router.post("/ui/settings/pipelines/{pipeline_id}/stages/{stage_id}")
def change_stage(
    pipeline_id: int, stage_id: int, session: DbSession, g: PipelineAdmin,
    name: Text = "", probability: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    pipeline = pipeline_repository.get(session, g.actor, pipeline_id)
    if pipeline is None:
        raise NotFound("no such pipeline")
    stage = pipeline_service.stage_of(pipeline, stage_id)
    if stage is None:
        raise NotFound("no such stage in this pipeline")
    changes: dict[str, Any] = {"name": name}
    if probability.strip():
        changes["probability"] = form_int(probability, "probability")
    data = validated(StageUpdate, changes)
    pipeline_service.update_stage(session, actor=g.actor, pipeline=pipeline, stage=stage,
                                  data=data)
    return _back("pipelines")


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
