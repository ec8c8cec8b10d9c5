"""Site tracker settings, the number pool's state, visits; lead forms and submissions."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from voronka import clock
from voronka.access.policy import Action
from voronka.audit import service as audit
from voronka.errors import ErrorDetail, InvalidInput, NotFound
from voronka.lead import repository as lead_repository
from voronka.lead import service as lead_service
from voronka.lead.models import FormSubmission, LeadForm
from voronka.lead.schemas import LeadFormCreate, LeadFormOut, LeadFormUpdate, SubmissionOut
from voronka.tracking import pool, sites
from voronka.tracking import repository as tracking_repository
from voronka.tracking.models import Site, SiteVisit, SiteVisitor
from voronka.tracking.schemas import PoolStatus, SiteCreate, SiteOut, SiteUpdate, VisitOut
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, fetch_page

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(tags=["site tracker and forms"], responses={401: {"description": "Not signed in"}})
INVALID: Responses = {422: {"description": "Invalid input; details name the field"}}
FORBIDDEN: Responses = {403: {"description": "Your role may not change marketing settings"}}
PRECONDITIONS: Responses = {
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _page(paging: Paging, total: int) -> dict[str, int]:
    return {"total": total, "page": paging.page, "page_size": paging.page_size}


# -- sites ------------------------------------------------------------------------------------

SITE_NOT_FOUND: Responses = {404: {"description": "No such site"}}


def _site(session: DbSession, g: Grant, site_id: int) -> Site:
    site = tracking_repository.get_site(session, g.actor.workspace_id, site_id)
    if site is None:
        raise NotFound("no such site")
    return site


@router.get("/sites", response_model=Page[SiteOut], summary="List sites with the tracker")
def list_sites(
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("site", Action.READ)],
    paging: Paging,
) -> Page[SiteOut]:
    rows, total = fetch_page(session, tracking_repository.sites_of(g.actor.workspace_id), paging)
    base = _base_url(request)
    return Page(items=[sites.site_out(r, base) for r in rows], **_page(paging, total))


@router.post(
    "/sites",
    response_model=SiteOut,
    status_code=201,
    summary="Register a site (returns its snippet)",
    responses={**FORBIDDEN, **INVALID},
)
def create_site(
    body: SiteCreate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("site", Action.CREATE)],
) -> SiteOut:
    site = sites.create_site(session, actor=g.actor, data=body)
    set_etag(response, site.id, site.version)
    return sites.site_out(site, _base_url(request))


@router.get(
    "/sites/{site_id}", response_model=SiteOut, summary="Read a site", responses=SITE_NOT_FOUND
)
def read_site(
    site_id: int,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("site", Action.READ)],
) -> SiteOut:
    site = _site(session, g, site_id)
    set_etag(response, site.id, site.version)
    return sites.site_out(site, _base_url(request))


@router.patch(
    "/sites/{site_id}",
    response_model=SiteOut,
    summary="Change a site",
    responses={**FORBIDDEN, **SITE_NOT_FOUND, **PRECONDITIONS, **INVALID},
)
def update_site(
    site_id: int,
    body: SiteUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("site", Action.UPDATE)],
) -> SiteOut:
    site = _site(session, g, site_id)
    require_match(request, site.id, site.version)
    site = sites.update_site(session, actor=g.actor, site=site, data=body)
    set_etag(response, site.id, site.version)
    return sites.site_out(site, _base_url(request))


@router.get(
    "/number-pool",
    response_model=PoolStatus,
    summary="Dynamic number pool: size, numbers in use, reservations and fallbacks",
    responses=INVALID,
)
def number_pool(
    session: DbSession,
    g: Annotated[Grant, grant("tracking_number", Action.READ)],
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> PoolStatus:
    now = clock.now()
    until = until or now
    since = since or until - timedelta(days=1)
    if since >= until:
        raise InvalidInput("since: must be before until", [ErrorDetail("after until", field="since")])
    return pool.status(session, workspace_id=g.actor.workspace_id, since=since, until=until, now=now)


@router.get(
    "/visits",
    response_model=Page[VisitOut],
    summary="Site visits (visitors of clients in your scope; anonymous ones for company-wide scope)",
    responses=INVALID,
)
def list_visits(
    session: DbSession,
    g: Annotated[Grant, grant("touchpoint", Action.READ)],
    paging: Paging,
    client_id: int | None = None,
    site_id: int | None = None,
    visitor_key: Annotated[str | None, Query(max_length=64)] = None,
    started_from: AwareDatetime | None = None,
    started_to: AwareDatetime | None = None,
) -> Page[VisitOut]:
    query = tracking_repository.visits_visible_to(g.actor, g.scope)
    conditions = []
    if client_id is not None:
        conditions.append(SiteVisitor.client_id == client_id)
    if site_id is not None:
        conditions.append(SiteVisit.site_id == site_id)
    if visitor_key is not None:
        conditions.append(SiteVisitor.visitor_key == visitor_key)
    if started_from is not None:
        conditions.append(SiteVisit.started_at >= started_from)
    if started_to is not None:
        conditions.append(SiteVisit.started_at < started_to)
    query = query.where(*conditions).order_by(SiteVisit.started_at.desc(), SiteVisit.id.desc())
    rows, total = fetch_page(session, query, paging)
    audit.record(
        session, g.actor, action="list", entity="site_visit", row_count=len(rows),
        detail={"page": paging.page, "client_id": client_id},
    )
    visitors = tracking_repository.visitors_by_id(session, {v.visitor_id for v in rows})
    items = [_visit_out(visit, visitors[visit.visitor_id]) for visit in rows]
    return Page(items=items, **_page(paging, total))


def _visit_out(visit: SiteVisit, visitor: SiteVisitor) -> VisitOut:
    values = {name: getattr(visit, name) for name in VisitOut.model_fields if hasattr(visit, name)}
    return VisitOut.model_validate(
        {**values, "visitor_key": visitor.visitor_key, "client_id": visitor.client_id}
    )


# -- lead forms -------------------------------------------------------------------------------

FORM_NOT_FOUND: Responses = {404: {"description": "No such form"}}


def _form(session: DbSession, g: Grant, form_id: int) -> LeadForm:
    form = lead_repository.get_form(session, g.actor.workspace_id, form_id)
    if form is None:
        raise NotFound("no such form")
    return form


@router.get("/lead-forms", response_model=Page[LeadFormOut], summary="List lead forms")
def list_forms(
    session: DbSession, g: Annotated[Grant, grant("lead_form", Action.READ)], paging: Paging
) -> Page[LeadFormOut]:
    rows, total = fetch_page(session, lead_repository.forms_of(g.actor.workspace_id), paging)
    return Page(items=[lead_service.form_out(r) for r in rows], **_page(paging, total))


@router.post(
    "/lead-forms",
    response_model=LeadFormOut,
    status_code=201,
    summary="Create a lead form",
    responses={**FORBIDDEN, **INVALID},
)
def create_form(
    body: LeadFormCreate,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("lead_form", Action.CREATE)],
) -> LeadFormOut:
    form = lead_service.create_form(session, actor=g.actor, data=body)
    set_etag(response, form.id, form.version)
    return lead_service.form_out(form)


@router.get(
    "/lead-forms/{form_id}",
    response_model=LeadFormOut,
    summary="Read a lead form",
    responses=FORM_NOT_FOUND,
)
def read_form(
    form_id: int,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("lead_form", Action.READ)],
) -> LeadFormOut:
    form = _form(session, g, form_id)
    set_etag(response, form.id, form.version)
    return lead_service.form_out(form)


@router.patch(
    "/lead-forms/{form_id}",
    response_model=LeadFormOut,
    summary="Change a lead form",
    responses={**FORBIDDEN, **FORM_NOT_FOUND, **PRECONDITIONS, **INVALID},
)
def update_form(
    form_id: int,
    body: LeadFormUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("lead_form", Action.UPDATE)],
) -> LeadFormOut:
    form = _form(session, g, form_id)
    require_match(request, form.id, form.version)
    form = lead_service.update_form(session, actor=g.actor, form=form, data=body)
    set_etag(response, form.id, form.version)
    return lead_service.form_out(form)


@router.get(
    "/lead-forms/{form_id}/submissions",
    response_model=Page[SubmissionOut],
    summary="Submissions of a form, newest first (accepted and spam)",
    responses=FORM_NOT_FOUND,
)
def list_submissions(
    form_id: int,
    session: DbSession,
    g: Annotated[Grant, grant("lead_form", Action.READ)],
    paging: Paging,
    since: AwareDatetime | None = None,
) -> Page[SubmissionOut]:
    form = _form(session, g, form_id)
    query = lead_repository.submissions_of(form.id)
    if since is not None:
        query = query.where(FormSubmission.received_at >= since)
    rows, total = fetch_page(session, query, paging)
    return Page(items=[SubmissionOut.model_validate(r) for r in rows], **_page(paging, total))


