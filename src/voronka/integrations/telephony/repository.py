"""Queries of call tracking: calls by provider id, repeat callers, extensions, open deals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from voronka.activity.models import Activity, ActivityKind
from voronka.client.models import Client, ContactKind, ContactPoint
from voronka.deal.models import Deal, DealStatus
from voronka.integrations.telephony.models import TelephonyCall, TelephonyExtension


def call_by_provider_id(
    session: Session, workspace_id: int, provider: str, call_id: str
) -> TelephonyCall | None:
    return session.scalars(
        select(TelephonyCall).where(
            TelephonyCall.workspace_id == workspace_id,
            TelephonyCall.provider == provider,
            TelephonyCall.provider_call_id == call_id,
        )
    ).one_or_none()


def called_since(
    session: Session, workspace_id: int, number: str, since: datetime, before: datetime
) -> bool:
    """Whether ``number`` called in ``[since, before)`` (the repeat-call rule)."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    TelephonyCall.workspace_id == workspace_id,
                    TelephonyCall.caller == number,
                    TelephonyCall.is_inbound.is_(True),
                    TelephonyCall.started_at >= since,
                    TelephonyCall.started_at < before,
                )
            )
        )
    )


def user_for_extension(session: Session, workspace_id: int, extension: str) -> int | None:
    return session.scalar(
        select(TelephonyExtension.user_id).where(
            TelephonyExtension.workspace_id == workspace_id,
            TelephonyExtension.extension == extension,
        )
    )


def client_with_phone(session: Session, workspace_id: int, e164: str) -> Client | None:
    """The oldest live, unmerged client holding this phone."""
    return session.scalars(
        select(Client)
        .join(ContactPoint, ContactPoint.client_id == Client.id)
        .where(
            ContactPoint.workspace_id == workspace_id,
            ContactPoint.kind == ContactKind.PHONE,
            ContactPoint.value == e164,
            Client.is_deleted.is_(False),
            Client.merged_into_id.is_(None),
        )
        .order_by(Client.id)
        .limit(1)
    ).first()


def open_deals(session: Session, client_id: int, *, limit: int = 5) -> list[Deal]:
    """The client's open deals, most recent first."""
    return list(
        session.scalars(
            select(Deal)
            .where(
                Deal.client_id == client_id,
                Deal.status == DealStatus.OPEN,
                Deal.is_deleted.is_(False),
            )
            .order_by(Deal.created_at.desc(), Deal.id.desc())
            .limit(limit)
        )
    )


def last_activities(session: Session, client_id: int, *, limit: int = 3) -> list[Activity]:
    return list(
        session.scalars(
            select(Activity)
            .where(Activity.client_id == client_id, Activity.is_deleted.is_(False))
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
            .limit(limit)
        )
    )


def call_activity(session: Session, workspace_id: int, external_id: str) -> Activity | None:
    return session.scalars(
        select(Activity).where(
            Activity.workspace_id == workspace_id,
            Activity.kind == ActivityKind.CALL,
            Activity.external_id == external_id,
        )
    ).one_or_none()


def extensions(session: Session, workspace_id: int) -> list[TelephonyExtension]:
    return list(
        session.scalars(
            select(TelephonyExtension)
            .where(TelephonyExtension.workspace_id == workspace_id)
            .order_by(TelephonyExtension.extension)
        )
    )


def extension(session: Session, workspace_id: int, number: str) -> TelephonyExtension | None:
    return session.scalars(
        select(TelephonyExtension).where(
            TelephonyExtension.workspace_id == workspace_id,
            TelephonyExtension.extension == number,
        )
    ).one_or_none()
