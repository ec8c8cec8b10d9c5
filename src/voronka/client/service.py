"""Client rules: creation with duplicate detection, updates, reassignment, merge, consent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.access.scope import check_owner
from voronka.audit import service as audit
from voronka.client import repository
from voronka.client.contact import normalize_or_invalid
from voronka.client.models import Client, ClientTag, ContactKind, ContactPoint
from voronka.client.schemas import ClientCreate, ClientUpdate, ContactIn
from voronka.config import get_settings
from voronka.errors import Conflict, ErrorDetail, Forbidden, InvalidInput


class DuplicateClient(Conflict):
    code = "duplicate_client"


def _normalised_contacts(contacts: Iterable[ContactIn]) -> list[ContactPoint]:
    region = get_settings().default_phone_region
    points: dict[tuple[ContactKind, str], ContactPoint] = {}
    for index, item in enumerate(contacts):
        value = normalize_or_invalid(
            item.kind, item.value, field=f"contacts.{index}.value", region=region
        )
        points.setdefault(
            (item.kind, value),
            ContactPoint(kind=item.kind, value=value, label=item.label, is_primary=item.is_primary),
        )
    return list(points.values())


def _search_text(client: Client) -> str:
    parts = [client.name, *(c.value for c in client.contacts), *(t.tag for t in client.tags)]
    return " ".join(parts).casefold()


def _check_owner(session: Session, actor: Actor, scope: Scope, owner_id: int | None) -> None:
    check_owner(session, actor, scope, owner_id, refusal="you may not give a client to that owner")


def _check_company(session: Session, actor: Actor, scope: Scope, company_id: int | None) -> None:
    if company_id is None:
        return
    company = repository.get_visible(session, actor, scope, company_id)
    if company is None or company.kind != "company":
        raise InvalidInput(
            "company_id: no such company", [ErrorDetail("unknown company", field="company_id")]
        )


def ensure_no_duplicates(
    session: Session,
    actor: Actor,
    scope: Scope,
    points: list[ContactPoint],
    *,
    except_id: int | None = None,
) -> None:
    """Refuse contact values other clients hold; name only those the actor may see."""
    holders = [
        h
        for h in repository.holders_of(
            session, actor.workspace_id, [(p.kind, p.value) for p in points]
        )
        if h[0] != except_id
    ]
    if not holders:
        return
    visible = {
        c.id
        for c in session.scalars(
            repository.visible_to(actor, scope).where(Client.id.in_({h[0] for h in holders}))
        )
    }
    details = [
        ErrorDetail(
            f"client {client_id} has this {kind.value}"
            if client_id in visible
            else f"another client outside your scope has this {kind.value}",
            field="contacts",
            value=value if client_id in visible else None,
        )
        for client_id, kind, value in holders
    ]
    raise DuplicateClient(
        "a client with this phone or e-mail exists; merge or pass allow_duplicate=true", details
    )


def create(
    session: Session, *, actor: Actor, scope: Scope, data: ClientCreate, allow_duplicate: bool
) -> Client:
    """Create a client owned by ``data.owner_id`` (the creator by default)."""
    owner_id = data.owner_id if "owner_id" in data.model_fields_set else actor.user_id
    _check_owner(session, actor, scope, owner_id)
    _check_company(session, actor, scope, data.company_id)
    points = _normalised_contacts(data.contacts)
    if not allow_duplicate:
        ensure_no_duplicates(session, actor, scope, points)
    client = Client(
        workspace_id=actor.workspace_id,
        kind=data.kind,
        name=data.name,
        company_id=data.company_id,
        job_title=data.job_title,
        owner_id=owner_id,
        source_channel_id=data.source_channel_id,
        source_campaign_id=data.source_campaign_id,
        custom_fields=data.custom_fields,
        created_by_id=actor.user_id,
    )
    for point in points:
        point.workspace_id = actor.workspace_id
        client.contacts.append(point)
    for tag in sorted({t.casefold() for t in data.tags if t}):
        client.tags.append(ClientTag(workspace_id=actor.workspace_id, tag=tag[:64]))
    client.search_text = _search_text(client)
    session.add(client)
    session.flush()
    audit.record(session, actor, action="create", entity="client", entity_id=client.id)
    return client


def _replace_contacts(client: Client, points: list[ContactPoint]) -> bool:
    """Make the client's contacts equal ``points``, keeping the rows of kept values.

    Rows are diffed rather than cleared and re-added: the unique (client, kind, value) index
    would otherwise see the new row before the old one is deleted.
    """
    wanted = {(p.kind, p.value): p for p in points}
    changed = False
    for existing in list(client.contacts):
        new = wanted.pop((existing.kind, existing.value), None)
        if new is None:
            client.contacts.remove(existing)
            changed = True
        elif (existing.label, existing.is_primary) != (new.label, new.is_primary):
            existing.label, existing.is_primary = new.label, new.is_primary
            changed = True
    for point in wanted.values():
        point.workspace_id = client.workspace_id
        client.contacts.append(point)
    return changed or bool(wanted)


def _replace_tags(client: Client, tags: list[str]) -> bool:
    """Make the client's tags equal ``tags`` (case-folded), keeping the rows of kept tags."""
    wanted = {t.casefold()[:64] for t in tags if t}
    kept = {t.tag for t in client.tags}
    for existing in [t for t in client.tags if t.tag not in wanted]:
        client.tags.remove(existing)
    for tag in sorted(wanted - kept):
        client.tags.append(ClientTag(workspace_id=client.workspace_id, tag=tag))
    return wanted != kept


def update_client(
    session: Session, *, actor: Actor, scope: Scope, client: Client, data: ClientUpdate
) -> Client:
    """Apply the fields set in ``data``; changing the owner needs the reassign right."""
    fields = data.model_dump(exclude_unset=True, exclude={"contacts", "tags"})
    changes: dict[str, tuple[Any, Any]] = {}
    if "owner_id" in fields and fields["owner_id"] != client.owner_id:
        reassign = scope_for(actor, "client", Action.REASSIGN)
        if reassign is Scope.NONE:
            raise Forbidden(
                "your role may not reassign clients", [ErrorDetail("not allowed", field="owner_id")]
            )
        _check_owner(session, actor, reassign, fields["owner_id"])
    if fields.get("company_id") not in (None, client.company_id):
        _check_company(session, actor, scope, fields["company_id"])
    for name, value in fields.items():
        if name in ("kind", "name") and value is None:
            raise InvalidInput(f"{name} cannot be null", [ErrorDetail("required", field=name)])
        if getattr(client, name) != value:
            changes[name] = (getattr(client, name), value)
            setattr(client, name, value)
    if data.contacts is not None:
        points = _normalised_contacts(data.contacts)
        ensure_no_duplicates(session, actor, scope, points, except_id=client.id)
        if _replace_contacts(client, points):
            changes["contacts"] = ("", "")
    if data.tags is not None and _replace_tags(client, data.tags):
        changes["tags"] = ("", "")
    if changes:
        client.search_text = _search_text(client)
        client.updated_at = clock.now()  # bump version even when only children changed
        session.flush()
        audit.record(
            session,
            actor,
            action="update",
            entity="client",
            entity_id=client.id,
            changes=audit.redact_changes(Client, changes),
        )
    return client


def soft_delete(session: Session, *, actor: Actor, client: Client) -> None:
    """Hide a client everywhere; history and analytics facts stay (no cascade)."""
    client.is_deleted = True
    client.deleted_at = clock.now()
    session.flush()
    audit.record(session, actor, action="delete", entity="client", entity_id=client.id)
