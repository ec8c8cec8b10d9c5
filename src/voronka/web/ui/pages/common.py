"""What several pages share: filter options and the per-page policy annotations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from voronka.access.policy import Action, Scope, scope_for
from voronka.campaign import repository as campaign_repository
from voronka.config import get_settings
from voronka.errors import ErrorDetail, InvalidInput
from voronka.user import repository as user_repository
from voronka.user.models import Role
from voronka.web.ui.auth import PageGrant, Viewer, page_grant

SALES_ROLES = (Role.SALES_MANAGER, Role.HEAD_OF_SALES)

ReportReader = Annotated[PageGrant, Depends(page_grant("report", Action.READ))]


@dataclass
class FilterOptions:
    channels: list[tuple[int, str]] = field(default_factory=list)
    managers: list[tuple[int, str]] = field(default_factory=list)


def managers(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    """Salespeople the viewer's reports (or lists) may be filtered by."""
    scope = scope_for(viewer.actor, "report", Action.READ)
    query = user_repository.visible_to(viewer.actor, scope if scope is not Scope.NONE else Scope.OWN)
    from voronka.user.models import User

    rows = session.scalars(
        query.where(User.role.in_(SALES_ROLES), User.is_active.is_(True)).order_by(User.name)
    )
    return [(u.id, u.name) for u in rows]


def channels(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    from voronka.campaign.models import Channel

    rows = session.scalars(
        campaign_repository.channels_of(viewer.actor.workspace_id).order_by(Channel.name)
    )
    return [(c.id, c.name) for c in rows]


def filter_options(session: Session, viewer: Viewer) -> FilterOptions:
    return FilterOptions(channels(session, viewer), managers(session, viewer))


def validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """Build an input model from form values; a mistake names the field (422)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            ErrorDetail(str(e["msg"]), field=".".join(str(p) for p in e["loc"]))
            for e in exc.errors()
        ]
        fields = ", ".join(sorted({d.field or "" for d in details}))
        raise InvalidInput(f"check the field(s): {fields}", details) from exc


def form_int(value: str | None, field: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    if not value.strip().isdigit():
        raise InvalidInput(f"{field} must be a number", [ErrorDetail("not a number", field=field)])
    return int(value)


def local_datetime(value: str | None, field: str) -> datetime | None:
    """A ``datetime-local`` form value in the company time zone, as aware UTC."""
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{field} is not a date and time",
                           [ErrorDetail("not a date and time", field=field)]) from exc
    zone = ZoneInfo(get_settings().timezone)
    local = naive if naive.tzinfo else naive.replace(tzinfo=zone)
    return local.astimezone(UTC)
