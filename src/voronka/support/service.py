"""Support rules: tickets and their resolution time, feedback and the CSAT/NPS summary."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.access.scope import check_owner
from voronka.audit import service as audit
from voronka.errors import ErrorDetail, Forbidden, InvalidInput
from voronka.support import repository
from voronka.support.models import Feedback, FeedbackKind, Ticket, TicketStatus
from voronka.support.schemas import (
    SCORE_RANGES,
    CsatSummary,
    FeedbackCreate,
    FeedbackSummary,
    NpsSummary,
    TicketCreate,
    TicketUpdate,
)

DONE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
HUNDREDTH = Decimal("0.01")
NOT_NULL = ("subject", "status", "priority")


def _unknown(field: str, what: str) -> InvalidInput:
    return InvalidInput(f"{field}: no such {what}", [ErrorDetail(f"unknown {what}", field=field)])


def _check_client(session: Session, actor: Actor, scope: Scope, client_id: int) -> None:
    if not repository.client_is_visible(session, actor, scope, client_id):
        raise _unknown("client_id", "client")


def _check_order(session: Session, actor: Actor, client_id: int, order_id: int | None) -> None:
    if order_id is not None and (
        repository.order_of_client(session, actor.workspace_id, order_id, client_id) is None
    ):
        raise _unknown("order_id", "order of this client")


def _check_owner(session: Session, actor: Actor, scope: Scope, owner_id: int | None) -> None:
    check_owner(
        session,
        actor,
        scope,
        owner_id,
        refusal="you may not give a ticket to that owner",
        allow_unassigned=True,
    )


def _set_status(ticket: Ticket, status: TicketStatus) -> None:
    """Resolving or closing stamps ``resolved_at`` once; reopening clears it."""
    if status in DONE and ticket.resolved_at is None:
        ticket.resolved_at = clock.now()
    elif status not in DONE:
        ticket.resolved_at = None
    ticket.status = status


def create_ticket(session: Session, *, actor: Actor, scope: Scope, data: TicketCreate) -> Ticket:
    """Open a ticket for a client the actor may touch, owned by the creator by default."""
    owner_id = data.owner_id if "owner_id" in data.model_fields_set else actor.user_id
    _check_client(session, actor, scope, data.client_id)
    _check_order(session, actor, data.client_id, data.order_id)
    _check_owner(session, actor, scope, owner_id)
    ticket = Ticket(
        workspace_id=actor.workspace_id,
        client_id=data.client_id,
        order_id=data.order_id,
        owner_id=owner_id,
        subject=data.subject,
        body=data.body,
        priority=data.priority,
    )
    _set_status(ticket, data.status)
    session.add(ticket)
    session.flush()
    audit.record(session, actor, action="create", entity="ticket", entity_id=ticket.id)
    return ticket


def _check_patch(session: Session, actor: Actor, ticket: Ticket, patch: dict[str, Any]) -> None:
    for name in NOT_NULL:
        if name in patch and patch[name] is None:
            raise InvalidInput(f"{name} cannot be null", [ErrorDetail("required", field=name)])
    if patch.get("owner_id", ticket.owner_id) != ticket.owner_id:
        reassign = scope_for(actor, "ticket", Action.REASSIGN)
        if reassign is Scope.NONE:
            raise Forbidden(
                "your role may not reassign tickets", [ErrorDetail("not allowed", field="owner_id")]
            )
        _check_owner(session, actor, reassign, patch["owner_id"])
    if patch.get("order_id", ticket.order_id) != ticket.order_id:
        _check_order(session, actor, ticket.client_id, patch["order_id"])


def update_ticket(session: Session, *, actor: Actor, ticket: Ticket, data: TicketUpdate) -> Ticket:
    """Apply the fields set in ``data``; changing the owner needs the reassign right."""
    patch = data.model_dump(exclude_unset=True)
    _check_patch(session, actor, ticket, patch)
    before = {name: getattr(ticket, name) for name in (*patch, "resolved_at")}
    for name, value in patch.items():
        if name == "status":
            _set_status(ticket, value)
        else:
            setattr(ticket, name, value)
    changes = {
        name: (old, getattr(ticket, name))
        for name, old in before.items()
        if old != getattr(ticket, name)
    }
    if changes:
        session.flush()
        audit.record(
            session,
            actor,
            action="update",
            entity="ticket",
            entity_id=ticket.id,
            changes=audit.redact_changes(Ticket, changes),
        )
    return ticket


def soft_delete_ticket(session: Session, *, actor: Actor, ticket: Ticket) -> None:
    """Hide a ticket everywhere; its feedback stays (no cascade)."""
    ticket.is_deleted = True
    session.flush()
    audit.record(session, actor, action="delete", entity="ticket", entity_id=ticket.id)


def _check_score(kind: FeedbackKind, score: int) -> None:
    low, high = SCORE_RANGES[kind]
    if not low <= score <= high:
        raise InvalidInput(
            f"score: {kind.value.upper()} scores run from {low} to {high}",
            [ErrorDetail(f"must be {low}–{high} for {kind.value}", field="score", value=score)],
        )


def create_feedback(
    session: Session, *, actor: Actor, scope: Scope, data: FeedbackCreate
) -> Feedback:
    """Record one satisfaction answer of a client the actor may touch."""
    _check_score(data.kind, data.score)
    _check_client(session, actor, scope, data.client_id)
    _check_order(session, actor, data.client_id, data.order_id)
    if data.ticket_id is not None and (
        repository.ticket_of_client(session, actor.workspace_id, data.ticket_id, data.client_id)
        is None
    ):
        raise _unknown("ticket_id", "ticket of this client")
    feedback = Feedback(workspace_id=actor.workspace_id, **data.model_dump())
    session.add(feedback)
    session.flush()
    audit.record(session, actor, action="create", entity="feedback", entity_id=feedback.id)
    return feedback


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    """``numerator ÷ denominator`` rounded half-even to 0.01 (one rounding, at the end)."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(HUNDREDTH, ROUND_HALF_EVEN)


def summary(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    since: datetime | None,
    until: datetime | None,
) -> FeedbackSummary:
    """CSAT mean and NPS of the feedback in ``scope`` created in ``[since, until)``.

    NPS = 100 × (promoters − detractors) ÷ answers, promoters scoring 9–10 and detractors 0–6.
    """
    counts = repository.feedback_counts(session, actor, scope, since, until)
    return FeedbackSummary(
        period_from=since,
        period_to=until,
        csat=CsatSummary(
            count=counts.csat_count,
            total=counts.csat_total,
            mean=_ratio(counts.csat_total, counts.csat_count),
        ),
        nps=NpsSummary(
            count=counts.nps_count,
            promoters=counts.promoters,
            passives=counts.nps_count - counts.promoters - counts.detractors,
            detractors=counts.detractors,
            score=_ratio(100 * (counts.promoters - counts.detractors), counts.nps_count),
        ),
    )
