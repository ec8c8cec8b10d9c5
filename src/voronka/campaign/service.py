"""Marketing rules: unique channel slugs and tracking numbers, UTM matching, the atomic
ad-spend upsert by (campaign, day), and touchpoints tied to clients the actor may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.audit import service as audit
from voronka.campaign import repository
from voronka.campaign.models import AdSpend, Campaign, Channel, Touchpoint, TrackingNumber
from voronka.campaign.schemas import (
    AdSpendRow,
    CampaignCreate,
    CampaignUpdate,
    ChannelCreate,
    ChannelUpdate,
    TouchpointCreate,
    TrackingNumberCreate,
    TrackingNumberUpdate,
)
from voronka.client.contact import normalize_phone
from voronka.config import get_settings
from voronka.errors import Conflict, ErrorDetail, InvalidInput

UTM_FIELDS = repository.UTM_FIELDS


class InUse(Conflict):
    code = "in_use"


def _duplicate(field: str, value: str, what: str) -> Conflict:
    return Conflict(
        f"{what} {value!r} already exists", [ErrorDetail("already taken", field=field, value=value)]
    )


def _invalid(field: str, message: str, *, row: int | None = None) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [ErrorDetail(message, field=field, row=row)])


def _refuse_nulls(fields: dict[str, Any], names: Sequence[str]) -> None:
    for name in names:
        if name in fields and fields[name] is None:
            raise _invalid(name, "cannot be null")


def _add(session: Session, actor: Actor, record: Any, *, entity: str) -> None:
    session.add(record)
    session.flush()
    audit.record(session, actor, action="create", entity=entity, entity_id=record.id)


def _delete(session: Session, actor: Actor, record: Any, *, entity: str) -> None:
    session.delete(record)
    session.flush()
    audit.record(session, actor, action="delete", entity=entity, entity_id=record.id)


# -- channels -------------------------------------------------------------------------------


def create_channel(session: Session, *, actor: Actor, data: ChannelCreate) -> Channel:
    """Create a channel; its slug must be new in the workspace."""
    if repository.slug_taken(session, actor.workspace_id, data.slug):
        raise _duplicate("slug", data.slug, "a channel with slug")
    channel = Channel(workspace_id=actor.workspace_id, **data.model_dump())
    _add(session, actor, channel, entity="channel")
    return channel


def update_channel(
    session: Session, *, actor: Actor, channel: Channel, data: ChannelUpdate
) -> Channel:
    fields = data.model_dump(exclude_unset=True)
    _refuse_nulls(fields, ("slug", "name", "kind", "is_paid"))
    if "slug" in fields and repository.slug_taken(
        session, actor.workspace_id, fields["slug"], except_id=channel.id
    ):
        raise _duplicate("slug", fields["slug"], "a channel with slug")
    audit.apply_changes(session, actor, channel, fields, entity="channel")
    return channel


def delete_channel(session: Session, *, actor: Actor, channel: Channel) -> None:
    """Delete a channel nothing refers to."""
    if repository.channel_in_use(session, channel.id):
        raise InUse("campaigns, numbers, touchpoints, clients or deals refer to this channel")
    _delete(session, actor, channel, entity="channel")


# -- campaigns ------------------------------------------------------------------------------


def _check_channel(session: Session, actor: Actor, channel_id: int | None) -> None:
    if channel_id is not None and not repository.get_channel(
        session, actor.workspace_id, channel_id
    ):
        raise _invalid("channel_id", "no such channel")


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise _invalid("ends_on", "cannot be before starts_on")


def create_campaign(session: Session, *, actor: Actor, data: CampaignCreate) -> Campaign:
    """Create a campaign of an existing channel."""
    _check_channel(session, actor, data.channel_id)
    _check_dates(data.starts_on, data.ends_on)
    campaign = Campaign(workspace_id=actor.workspace_id, **data.model_dump())
    _add(session, actor, campaign, entity="campaign")
    return campaign


def update_campaign(
    session: Session, *, actor: Actor, campaign: Campaign, data: CampaignUpdate
) -> Campaign:
    fields = data.model_dump(exclude_unset=True)
    _refuse_nulls(fields, ("channel_id", "name", "is_active"))
    _check_channel(session, actor, fields.get("channel_id"))
    _check_dates(
        fields.get("starts_on", campaign.starts_on), fields.get("ends_on", campaign.ends_on)
    )
    audit.apply_changes(session, actor, campaign, fields, entity="campaign")
    return campaign


def delete_campaign(session: Session, *, actor: Actor, campaign: Campaign) -> None:
    """Delete a campaign nothing refers to; campaigns with spend are deactivated instead."""
    if repository.campaign_in_use(session, campaign.id):
        raise InUse("spend, numbers, touchpoints, clients or deals refer to this campaign")
    _delete(session, actor, campaign, entity="campaign")


def _specificity(campaign: Campaign) -> tuple[int, bool, int]:
    defined = sum(getattr(campaign, name) is not None for name in UTM_FIELDS)
    return defined, campaign.is_active, campaign.id


def match_campaign(
    session: Session, *, workspace_id: int, values: dict[str, str | None]
) -> Campaign | None:
    """The campaign for these UTM values: the one defining most of them wins.

    A campaign matches when each UTM value it defines equals the given one (exactly, as web
    analytics tools compare them). Ties go to active campaigns, then to the newest.
    """
    candidates = repository.utm_candidates(session, workspace_id, values)
    return max(candidates, key=_specificity, default=None)


# -- ad spend -------------------------------------------------------------------------------


def _spend_values(actor: Actor, row: AdSpendRow) -> dict[str, Any]:
    """Column values of one spend row, keyed by the column names of ``ad_spend``."""
    return {
        "workspace_id": actor.workspace_id,
        "campaign_id": row.campaign_id,
        "day": row.day,
        "cost_minor": row.cost,
        "currency": row.currency or get_settings().default_currency,
        "impressions": row.impressions,
        "clicks": row.clicks,
        "source": row.source,
    }


def _check_spend_rows(session: Session, actor: Actor, rows: Sequence[AdSpendRow]) -> None:
    """Refuse the batch when a row names an unknown campaign or repeats a (campaign, day)."""
    known = repository.existing_campaign_ids(
        session, actor.workspace_id, (r.campaign_id for r in rows)
    )
    first_row: dict[tuple[int, date], int] = {}
    for index, row in enumerate(rows):
        if row.campaign_id not in known:
            raise _invalid(f"rows.{index}.campaign_id", "no such campaign", row=index)
        earlier = first_row.setdefault((row.campaign_id, row.day), index)
        if earlier != index:
            raise _invalid(
                f"rows.{index}.day", f"same campaign and day as row {earlier}", row=index
            )


def _comparable(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        values[name] for name in ("cost_minor", "currency", "impressions", "clicks", "source")
    )


def upsert_spend(
    session: Session, *, actor: Actor, rows: Sequence[AdSpendRow]
) -> tuple[list[AdSpend], dict[str, int]]:
    """Write the whole batch or nothing; return the rows and created/updated/unchanged counts.

    Rows are keyed by (campaign_id, day): sending the same rows again overwrites the values
    and never adds a row. Every row is checked before the first write.
    """
    _check_spend_rows(session, actor, rows)
    values = [_spend_values(actor, row) for row in rows]
    keys = [(v["campaign_id"], v["day"]) for v in values]
    stored = repository.stored_spend(session, keys)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for key, row_values in zip(keys, values, strict=True):
        if key not in stored:
            counts["created"] += 1
        elif stored[key] == _comparable(row_values):
            counts["unchanged"] += 1
        else:
            counts["updated"] += 1
    repository.upsert_spend(session, values)
    written = repository.spend_by_keys(session, keys)
    audit.record(
        session, actor, action="import", entity="ad_spend", row_count=len(rows), detail=counts
    )
    return [written[key] for key in keys], counts


def delete_spend(session: Session, *, actor: Actor, row: AdSpend) -> None:
    """Delete one day of a campaign's spend (a correction; re-import restores it)."""
    _delete(session, actor, row, entity="ad_spend")


# -- tracking numbers -----------------------------------------------------------------------


def _e164(raw: str) -> str:
    try:
        return normalize_phone(raw, region=get_settings().default_phone_region)
    except ValueError as exc:
        raise InvalidInput(
            f"number: {exc}", [ErrorDetail(str(exc), field="number", value=raw[:40])]
        ) from exc


def _campaign_channel(
    session: Session, actor: Actor, campaign_id: int | None, channel_id: int | None
) -> int | None:
    """The channel to store: the given one, or the campaign's; both must agree."""
    _check_channel(session, actor, channel_id)
    if campaign_id is None:
        return channel_id
    campaign = repository.get_campaign(session, actor.workspace_id, campaign_id)
    if campaign is None:
        raise _invalid("campaign_id", "no such campaign")
    if channel_id is not None and channel_id != campaign.channel_id:
        raise _invalid("channel_id", "differs from the campaign's channel")
    return campaign.channel_id


def create_tracking_number(
    session: Session, *, actor: Actor, data: TrackingNumberCreate
) -> TrackingNumber:
    """Register a number (stored as E.164, unique in the workspace)."""
    number = _e164(data.number)
    if repository.number_taken(session, actor.workspace_id, number):
        raise _duplicate("number", number, "tracking number")
    channel_id = _campaign_channel(session, actor, data.campaign_id, data.channel_id)
    record = TrackingNumber(
        workspace_id=actor.workspace_id,
        **data.model_dump(exclude={"number", "channel_id"}),
        number=number,
        channel_id=channel_id,
    )
    _add(session, actor, record, entity="tracking_number")
    return record


def update_tracking_number(
    session: Session, *, actor: Actor, record: TrackingNumber, data: TrackingNumberUpdate
) -> TrackingNumber:
    fields = data.model_dump(exclude_unset=True)
    _refuse_nulls(fields, ("number", "kind", "is_active"))
    if "number" in fields:
        fields["number"] = _e164(fields["number"])
        if repository.number_taken(
            session, actor.workspace_id, fields["number"], except_id=record.id
        ):
            raise _duplicate("number", fields["number"], "tracking number")
    if "campaign_id" in fields or "channel_id" in fields:
        campaign_id = fields.get("campaign_id", record.campaign_id)
        if "channel_id" in fields:
            channel_id = fields["channel_id"]
        else:  # follow the new campaign, or keep the channel when the campaign is cleared
            channel_id = record.channel_id if campaign_id is None else None
        fields["channel_id"] = _campaign_channel(session, actor, campaign_id, channel_id)
    audit.apply_changes(session, actor, record, fields, entity="tracking_number")
    return record


def lookup_number(session: Session, *, workspace_id: int, raw: str) -> TrackingNumber | None:
    """The tracking number a call was made to, however the number was written."""
    return repository.find_number(session, workspace_id, _e164(raw))


# -- touchpoints ----------------------------------------------------------------------------


def _touchpoint_campaign(
    session: Session, actor: Actor, data: TouchpointCreate
) -> tuple[int | None, int | None]:
    """(campaign_id, channel_id): as given, or the campaign found from the UTM values.

    A campaign found from UTM values of another channel than the given one is not linked.
    """
    campaign_id = data.campaign_id
    if campaign_id is None and any(getattr(data, f) for f in UTM_FIELDS[:3]):
        values = {name: getattr(data, name) for name in UTM_FIELDS[:3]}
        found = match_campaign(session, workspace_id=actor.workspace_id, values=values)
        if found is not None and data.channel_id in (None, found.channel_id):
            campaign_id = found.id
    return campaign_id, _campaign_channel(session, actor, campaign_id, data.channel_id)


def create_touchpoint(
    session: Session, *, actor: Actor, scope: Scope, data: TouchpointCreate
) -> Touchpoint:
    """Record a touchpoint of a visitor and/or a client the actor may see."""
    if data.visitor_id is None and data.client_id is None:
        raise _invalid("visitor_id", "give a visitor_id, a client_id or both")
    if data.client_id is not None and not repository.client_is_visible(
        session, actor, scope, data.client_id
    ):
        raise _invalid("client_id", "no such client")
    campaign_id, channel_id = _touchpoint_campaign(session, actor, data)
    touchpoint = Touchpoint(
        workspace_id=actor.workspace_id,
        **data.model_dump(exclude={"campaign_id", "channel_id"}),
        campaign_id=campaign_id,
        channel_id=channel_id,
    )
    _add(session, actor, touchpoint, entity="touchpoint")
    return touchpoint
