"""Lead forms: settings, and submissions turned into leads.

A submission is checked (shape, signature or spam traps, fields) before anything is stored,
then stored raw in the inbound log under ``<form id>:<submission id>`` and processed at once
(:mod:`voronka.integrations.intake`): a resend of the same submission id changes nothing.
The lead's campaign is, in order: the campaign of the visitor's latest visit from a known
campaign, the campaign named by the page's UTM values, the form's default.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import check_owner
from voronka.audit import service as audit
from voronka.campaign import repository as campaign_repository
from voronka.campaign.models import Campaign, TouchpointKind
from voronka.campaign.service import match_campaign
from voronka.db.session import unit_of_work
from voronka.errors import ErrorDetail, InvalidInput, NotFound
from voronka.integrations import intake
from voronka.integrations.inbound import InboundEvent
from voronka.lead import checks, repository
from voronka.lead.intake import LeadIn, take_lead
from voronka.lead.models import FormSubmission, LeadForm, SubmissionStatus
from voronka.lead.schemas import (
    LeadFormCreate,
    LeadFormOut,
    LeadFormUpdate,
    PublicForm,
    Submission,
    SubmissionAck,
)
from voronka.pipeline import repository as pipeline_repository
from voronka.tracking import repository as tracking_repository
from voronka.tracking import service as tracking_service
from voronka.tracking.service import Landing

PROVIDER = "form"
HANDLER = "lead.process_form"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [ErrorDetail(message, field=field)])


# -- settings ---------------------------------------------------------------------------------


def _check_references(session: Session, actor: Actor, values: dict[str, Any]) -> None:
    """Site, channel, campaign, pipeline and owner must exist in the workspace and agree."""
    ws = actor.workspace_id
    if values.get("site_id") is not None and not tracking_repository.get_site(
        session, ws, values["site_id"]
    ):
        raise _invalid("site_id", "no such site")
    channel_id, campaign_id = values.get("channel_id"), values.get("campaign_id")
    if channel_id is not None and not campaign_repository.get_channel(session, ws, channel_id):
        raise _invalid("channel_id", "no such channel")
    if campaign_id is not None:
        campaign = campaign_repository.get_campaign(session, ws, campaign_id)
        if campaign is None:
            raise _invalid("campaign_id", "no such campaign")
        if channel_id is not None and campaign.channel_id != channel_id:
            raise _invalid("campaign_id", "the campaign belongs to another channel")
    if values.get("pipeline_id") is not None and not pipeline_repository.get(
        session, actor, values["pipeline_id"]
    ):
        raise _invalid("pipeline_id", "no such pipeline")
    check_owner(
        session, actor, Scope.ALL, values.get("owner_id"),
        refusal="no such owner", allow_unassigned=True,
    )


def create_form(session: Session, *, actor: Actor, data: LeadFormCreate) -> LeadForm:
    """Create a lead form with a new public key."""
    values = data.model_dump(mode="json")
    _check_references(session, actor, values)
    form = LeadForm(
        workspace_id=actor.workspace_id,
        form_key=tracking_service.new_key(),
        token_key=secrets.token_hex(32),
        **values,
    )
    session.add(form)
    session.flush()
    audit.record(session, actor, action="create", entity="lead_form", entity_id=form.id)
    return form


def update_form(
    session: Session, *, actor: Actor, form: LeadForm, data: LeadFormUpdate
) -> LeadForm:
    fields = data.model_dump(mode="json", exclude_unset=True)
    for name in ("name", "fields", "honeypot_field", "min_fill_seconds", "is_active"):
        if name in fields and fields[name] is None:
            raise _invalid(name, "cannot be null")
    merged = {
        name: fields.get(name, getattr(form, name))
        for name in ("site_id", "channel_id", "campaign_id", "pipeline_id", "owner_id")
    }
    _check_references(session, actor, merged)
    names = {f["name"] for f in fields.get("fields", form.fields)}
    if fields.get("honeypot_field", form.honeypot_field) in names:
        raise _invalid("honeypot_field", "must not be one of the fields")
    audit.apply_changes(session, actor, form, fields, entity="lead_form")
    return form


def form_out(form: LeadForm) -> LeadFormOut:
    return LeadFormOut.model_validate(
        {**{c: getattr(form, c) for c in LeadFormOut.model_fields if c != "signed"},
         "signed": form.secret is not None}
    )


def active_form(session: Session, form_key: str) -> LeadForm:
    form = repository.form_by_key(session, form_key)
    if form is None or not form.is_active:
        raise NotFound("no such form", [ErrorDetail("unknown form key", field="form_key")])
    return form


def public_form(session: Session, *, form_key: str, now: datetime) -> PublicForm:
    """What a page needs to render the form, with a fresh fill-time token."""
    form = active_form(session, form_key)
    return PublicForm(
        name=form.name,
        fields=[{k: v for k, v in f.items() if k != "max_length"} for f in form.fields],
        honeypot=form.honeypot_field,
        token=checks.issue_token(form, now),
    )


# -- submissions ------------------------------------------------------------------------------


def _record_spam(
    engine: Engine, form: LeadForm, submission: Submission, reason: str, now: datetime
) -> bool:
    """Count a spam submission once per submission id; returns whether it was new."""
    try:
        with unit_of_work(engine) as session:
            session.add(
                FormSubmission(
                    workspace_id=form.workspace_id,
                    form_id=form.id,
                    submission_key=submission.submission_id,
                    received_at=now,
                    status=SubmissionStatus.SPAM,
                    spam_reason=reason,
                    client_created=False,
                )
            )
    except IntegrityError:
        return False
    return True


def receive_submission(
    engine: Engine,
    *,
    form_key: str,
    body: bytes,
    signature: str | None,
    headers: dict[str, str],
    now: datetime,
) -> SubmissionAck:
    """Check, store raw and process one submission (see the module docstring)."""
    with unit_of_work(engine, write=False) as session:
        form = active_form(session, form_key)
    submission = checks.parse_body(body)
    reason = None
    if form.secret is not None:
        checks.check_signature(form, signature, body, now)
    else:
        reason = checks.spam_reason(form, submission, now)
    if reason is not None:
        new = _record_spam(engine, form, submission, reason, now)
        return SubmissionAck(
            status="received", submission_id=submission.submission_id, duplicate=not new
        )
    checks.clean_fields(form, submission)  # a 422 now, before anything is stored
    outcome = intake.receive(
        engine,
        workspace_id=form.workspace_id,
        provider=PROVIDER,
        kind="submission",
        external_id=f"{form.id}:{submission.submission_id}",
        body=body.decode(),
        headers=headers,
        content_type="application/json",
        processor=process_submission,
        handler=HANDLER,
    )
    return SubmissionAck(
        status="received", submission_id=submission.submission_id, duplicate=outcome.duplicate
    )


def _campaign(
    session: Session, form: LeadForm, submission: Submission, visitor_id: int | None
) -> tuple[int | None, int | None]:
    """(campaign_id, channel_id) of the lead: visitor's campaign, page UTM, form default."""
    campaign: Campaign | None = None
    if visitor_id is not None:
        visit = tracking_repository.latest_campaign_visit(session, visitor_id)
        if visit is not None and visit.campaign_id is not None:
            campaign = session.get(Campaign, visit.campaign_id)
    if campaign is None and submission.url:
        landing = Landing.of(submission.url, submission.referrer)
        if landing.has_campaign:
            campaign = match_campaign(session, workspace_id=form.workspace_id, values=landing.utm)
    if campaign is not None:
        return campaign.id, campaign.channel_id
    if form.campaign_id is not None:
        default = session.get(Campaign, form.campaign_id)
        return form.campaign_id, default.channel_id if default else form.channel_id
    return None, form.channel_id


def _note(form: LeadForm, texts: dict[str, str], submission: Submission) -> str | None:
    lines = [f"{label}: {value}" for label, value in texts.items()]
    if submission.url:
        lines.append(f"page: {submission.url[:1000]}")
    return "\n".join(lines) or None


def process_submission(session: Session, event: InboundEvent) -> dict[str, Any]:
    """Turn a stored submission into a client, a lead deal and a form touchpoint."""
    form_id, _, submission_key = event.external_id.partition(":")
    form = session.get(LeadForm, int(form_id))
    if form is None:
        raise NotFound(f"form {form_id} no longer exists")
    stored = repository.submission(session, form.id, submission_key)
    if stored is not None:  # processed before (e.g. a replay after a crash)
        return {"submission_id": stored.id, "client_id": stored.client_id,
                "deal_id": stored.deal_id}
    submission = checks.parse_body(event.body.encode())
    clean = checks.clean_fields(form, submission)
    visitor = (
        tracking_service.visitor_of(session, form.workspace_id, submission.visitor)
        if submission.visitor
        else None
    )
    campaign_id, channel_id = _campaign(
        session, form, submission, visitor.id if visitor else None
    )
    lead = take_lead(
        session,
        lead=LeadIn(
            workspace_id=form.workspace_id,
            title=f"{form.name}: {clean.name or clean.email or clean.phone}",
            occurred_at=event.received_at,
            name=clean.name,
            phone=clean.phone,
            email=clean.email,
            channel_id=channel_id,
            campaign_id=campaign_id,
            pipeline_id=form.pipeline_id,
            owner_id=form.owner_id,
            note_subject=f"{form.name} (form)",
            note_body=_note(form, clean.texts, submission),
            consents=clean.consents,
            consent_text_version=form.consent_text_version,
            consent_evidence=f"form {form.form_key}, submission {submission_key}",
            touchpoint=TouchpointKind.FORM,
            visitor_key=submission.visitor,
        ),
    )
    if visitor is not None:
        tracking_service.link_visitor(
            session, visitor=visitor, client_id=lead.client.id, how="form", at=event.received_at
        )
    record = FormSubmission(
        workspace_id=form.workspace_id,
        form_id=form.id,
        submission_key=submission_key,
        received_at=event.received_at,
        status=SubmissionStatus.ACCEPTED,
        visitor_key=submission.visitor,
        client_id=lead.client.id,
        deal_id=lead.deal.id,
        client_created=lead.client_created,
    )
    session.add(record)
    session.flush()
    return {"submission_id": record.id, "client_id": lead.client.id, "deal_id": lead.deal.id,
            "client_created": lead.client_created}
