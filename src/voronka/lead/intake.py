"""Lead intake shared by web forms and inbound e-mail.

A lead finds its client by normalised phone or e-mail (the oldest live client holding one of
them) or creates one, then opens a deal in the first open stage of the pipeline (the default
pipeline unless the source names one), optionally with a note, consent records and a
touchpoint. Everything runs as the system actor inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.activity import service as activity_service
from voronka.activity.models import ActivityKind, Direction
from voronka.activity.schemas import ActivityCreate
from voronka.audit import service as audit
from voronka.campaign.models import Campaign, Touchpoint, TouchpointKind
from voronka.client import repository as client_repository
from voronka.client import service as client_service
from voronka.client.models import Client, ConsentMethod, ConsentPurpose, ConsentRecord, ContactKind
from voronka.client.schemas import ClientCreate, ClientUpdate, ContactIn
from voronka.deal import service as deal_service
from voronka.deal.models import Deal
from voronka.deal.schemas import DealCreate


@dataclass(frozen=True)
class LeadIn:
    """A lead as a source saw it; contact values are already normalised."""

    workspace_id: int
    title: str
    occurred_at: datetime
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    channel_id: int | None = None
    campaign_id: int | None = None
    pipeline_id: int | None = None
    owner_id: int | None = None
    note_subject: str | None = None
    note_body: str | None = None
    note_kind: ActivityKind = ActivityKind.NOTE
    note_external_id: str | None = None
    consents: Sequence[ConsentPurpose] = ()
    consent_method: ConsentMethod = ConsentMethod.WEB_FORM
    consent_text_version: str | None = None
    consent_evidence: str | None = None
    touchpoint: TouchpointKind | None = None
    visitor_key: str | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LeadOut:
    client: Client
    client_created: bool
    deal: Deal
    activity_id: int | None


def _contacts(lead: LeadIn) -> list[tuple[ContactKind, str]]:
    pairs = [(ContactKind.PHONE, lead.phone), (ContactKind.EMAIL, lead.email)]
    return [(kind, value) for kind, value in pairs if value]


def _serialise_by_contact(session: Session, lead: LeadIn) -> None:
    """On PostgreSQL, let one transaction at a time take a lead with these contacts, so two
    leads from one person arriving together make one client (SQLite writers are serial)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for kind, value in sorted(_contacts(lead)):
        digest = hashlib.blake2b(f"{lead.workspace_id}:{kind}:{value}".encode(), digest_size=8)
        key = int.from_bytes(digest.digest(), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def find_client(session: Session, lead: LeadIn) -> Client | None:
    """The oldest live client holding the lead's phone or e-mail."""
    holders = client_repository.holders_of(session, lead.workspace_id, _contacts(lead))
    ids = sorted({client_id for client_id, _, _ in holders})
    for client_id in ids:
        client = session.get(Client, client_id)
        if client is None or client.is_deleted:
            continue
        if client.merged_into_id is not None:  # merged away: the lead goes to the survivor
            survivor = session.get(Client, client.merged_into_id)
            if survivor is not None and not survivor.is_deleted:
                return survivor
        return client
    return None


def _add_missing_contacts(session: Session, actor: Actor, client: Client, lead: LeadIn) -> None:
    """Give the found client the lead's other contact value when nobody holds it yet."""
    have = {(c.kind, c.value) for c in client.contacts}
    new = [p for p in _contacts(lead) if p not in have]
    if not new or client_repository.holders_of(session, lead.workspace_id, new):
        return
    contacts = [
        ContactIn(kind=c.kind, value=c.value, label=c.label, is_primary=c.is_primary)
        for c in client.contacts
    ] + [ContactIn(kind=kind, value=value) for kind, value in new]
    client_service.update_client(
        session, actor=actor, scope=Scope.ALL, client=client,
        data=ClientUpdate(contacts=contacts),
    )


def _new_client(session: Session, actor: Actor, lead: LeadIn) -> Client:
    name = lead.name or lead.email or lead.phone or "—"
    data = ClientCreate(
        name=name[:300],
        owner_id=lead.owner_id,
        source_channel_id=lead.channel_id,
        source_campaign_id=lead.campaign_id,
        contacts=[ContactIn(kind=k, value=v, is_primary=True) for k, v in _contacts(lead)],
    )
    return client_service.create(
        session, actor=actor, scope=Scope.ALL, data=data, allow_duplicate=True
    )


def _consents(session: Session, actor: Actor, client: Client, lead: LeadIn) -> None:
    for purpose in dict.fromkeys(lead.consents):
        record = ConsentRecord(
            workspace_id=client.workspace_id,
            client_id=client.id,
            purpose=purpose,
            granted=True,
            method=lead.consent_method,
            text_version=lead.consent_text_version,
            evidence=lead.consent_evidence,
            occurred_at=lead.occurred_at,
            recorded_by_id=None,
        )
        session.add(record)
        session.flush()
        audit.record(session, actor, action="create", entity="consent", entity_id=record.id)


def _touchpoint(session: Session, client: Client, lead: LeadIn) -> None:
    if lead.touchpoint is None:
        return
    campaign = session.get(Campaign, lead.campaign_id) if lead.campaign_id else None
    session.add(
        Touchpoint(
            workspace_id=lead.workspace_id,
            visitor_id=lead.visitor_key,
            client_id=client.id,
            kind=lead.touchpoint,
            occurred_at=lead.occurred_at,
            channel_id=lead.channel_id,
            campaign_id=lead.campaign_id,
            utm_source=campaign.utm_source if campaign else None,
            utm_medium=campaign.utm_medium if campaign else None,
            utm_campaign=campaign.utm_campaign if campaign else None,
            pages=0,
            seconds_on_site=0,
        )
    )


def _note(session: Session, actor: Actor, client: Client, deal: Deal, lead: LeadIn) -> int | None:
    if not (lead.note_subject or lead.note_body):
        return None
    email = lead.note_kind is ActivityKind.EMAIL
    activity, _ = activity_service.create(
        session, actor=actor, scope=Scope.ALL,
        data=ActivityCreate(
            kind=lead.note_kind,
            client_id=client.id,
            deal_id=deal.id,
            owner_id=deal.owner_id,
            subject=(lead.note_subject or "")[:300] or None,
            body=(lead.note_body or "")[:100_000] or None,
            occurred_at=lead.occurred_at,
            direction=Direction.INBOUND if email else None,
            external_id=lead.note_external_id,
        ),
    )
    return activity.id


def take_lead(session: Session, *, lead: LeadIn) -> LeadOut:
    """Find or create the client, open the lead deal, add note, consents and touchpoint."""
    if not _contacts(lead):
        raise ValueError("a lead needs a phone or an e-mail")
    actor = Actor.system(lead.workspace_id)
    _serialise_by_contact(session, lead)
    client = find_client(session, lead)
    created = client is None
    if client is None:
        client = _new_client(session, actor, lead)
    else:
        _add_missing_contacts(session, actor, client, lead)
    deal = deal_service.create(
        session, actor=actor, scope=Scope.ALL,
        data=DealCreate(
            title=lead.title[:300],
            client_id=client.id,
            pipeline_id=lead.pipeline_id,
            owner_id=lead.owner_id if lead.owner_id is not None else client.owner_id,
            channel_id=lead.channel_id,
            campaign_id=lead.campaign_id,
            custom_fields=lead.custom_fields,
        ),
    )
    activity_id = _note(session, actor, client, deal, lead)
    _consents(session, actor, client, lead)
    _touchpoint(session, client, lead)
    session.flush()
    return LeadOut(client, created, deal, activity_id)
