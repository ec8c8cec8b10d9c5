"""Marketing: channels, campaigns and UTM matching, ad spend, tracking numbers, touchpoints."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from voronka.access.policy import Action
from voronka.audit import service as audit
from voronka.campaign import repository
from voronka.campaign import service as marketing
from voronka.campaign.models import (
    AdSpend,
    Campaign,
    Channel,
    ChannelKind,
    Touchpoint,
    TouchpointKind,
    TrackingNumber,
)
from voronka.campaign.schemas import (
    AdSpendBatch,
    AdSpendOut,
    AdSpendUpsertResult,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    ChannelCreate,
    ChannelOut,
    ChannelUpdate,
    SpendTotal,
    TouchpointCreate,
    TouchpointOut,
    TrackingNumberCreate,
    TrackingNumberOut,
    TrackingNumberUpdate,
)
from voronka.errors import BadRequest, ErrorDetail, NotFound
from voronka.fields import CurrencyCode
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, PageRequest, Paging, SortParam, apply_sort, fetch_page

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(tags=["marketing"], responses={401: {"description": "Not signed in"}})
INVALID: Responses = {422: {"description": "Invalid input; details name the field"}}
BAD_SORT: Responses = {400: {"description": "Unknown sort field"}}
FORBIDDEN: Responses = {403: {"description": "Your role may not change marketing data"}}
PRECONDITIONS: Responses = {
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}
IN_USE: Responses = {409: {"description": "Other records refer to it"}}
UtmQuery = Annotated[str | None, Query(min_length=1, max_length=200)]


class AdSpendPage(Page[AdSpendOut]):
    """A page of spend rows, with sums over every matching row per currency."""

    totals: list[SpendTotal]


def _page_fields(paging: PageRequest, total: int) -> dict[str, int]:
    return {"total": total, "page": paging.page, "page_size": paging.page_size}


# -- channels -------------------------------------------------------------------------------

ChannelRead = Annotated[Grant, grant("channel", Action.READ)]
CHANNEL_NOT_FOUND: Responses = {404: {"description": "No such channel"}}


def visible_channel(session: DbSession, g: Grant, channel_id: int) -> Channel:
    """The channel of the actor's workspace, or 404."""
    channel = repository.get_channel(session, g.actor.workspace_id, channel_id)
    if channel is None:
        raise NotFound("no such channel")
    return channel


@router.get(
    "/channels",
    response_model=Page[ChannelOut],
    summary="List channels",
    responses={**BAD_SORT, **INVALID},
)
def list_channels(
    session: DbSession,
    g: ChannelRead,
    paging: Paging,
    sort: SortParam = None,
    kind: ChannelKind | None = None,
    is_paid: bool | None = None,
) -> Page[ChannelOut]:
    query = repository.channels_of(g.actor.workspace_id, kind=kind, is_paid=is_paid)
    sortable = {"slug": Channel.slug, "name": Channel.name, "created_at": Channel.created_at}
    rows, total = fetch_page(
        session, apply_sort(query, sort, sortable, [Channel.slug], Channel.id), paging
    )
    return Page(items=[ChannelOut.model_validate(r) for r in rows], **_page_fields(paging, total))


@router.post(
    "/channels",
    response_model=ChannelOut,
    status_code=201,
    summary="Create a channel",
    responses={**FORBIDDEN, 409: {"description": "Slug taken"}, **INVALID},
)
def create_channel(
    body: ChannelCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("channel", Action.CREATE)],
) -> ChannelOut:
    channel = marketing.create_channel(session, actor=g.actor, data=body)
    set_etag(response, channel.id, channel.version)
    return ChannelOut.model_validate(channel)


@router.get(
    "/channels/{channel_id}",
    response_model=ChannelOut,
    summary="Read a channel",
    responses={**CHANNEL_NOT_FOUND, **INVALID},
)
def read_channel(
    channel_id: int, session: DbSession, g: ChannelRead, response: Response
) -> ChannelOut:
    channel = visible_channel(session, g, channel_id)
    set_etag(response, channel.id, channel.version)
    return ChannelOut.model_validate(channel)


@router.patch(
    "/channels/{channel_id}",
    response_model=ChannelOut,
    summary="Change a channel",
    responses={
        **FORBIDDEN,
        **CHANNEL_NOT_FOUND,
        409: {"description": "Slug taken"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def update_channel(
    channel_id: int,
    body: ChannelUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("channel", Action.UPDATE)],
) -> ChannelOut:
    channel = visible_channel(session, g, channel_id)
    require_match(request, channel.id, channel.version)
    channel = marketing.update_channel(session, actor=g.actor, channel=channel, data=body)
    set_etag(response, channel.id, channel.version)
    return ChannelOut.model_validate(channel)


@router.delete(
    "/channels/{channel_id}",
    status_code=204,
    summary="Delete a channel nothing refers to",
    responses={**FORBIDDEN, **CHANNEL_NOT_FOUND, **IN_USE, **PRECONDITIONS, **INVALID},
)
def delete_channel(
    channel_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("channel", Action.DELETE)],
) -> Response:
    channel = visible_channel(session, g, channel_id)
    require_match(request, channel.id, channel.version)
    marketing.delete_channel(session, actor=g.actor, channel=channel)
    return Response(status_code=204)


# -- campaigns ------------------------------------------------------------------------------

CampaignRead = Annotated[Grant, grant("campaign", Action.READ)]
CAMPAIGN_NOT_FOUND: Responses = {404: {"description": "No such campaign"}}


def visible_campaign(session: DbSession, g: Grant, campaign_id: int) -> Campaign:
    """The campaign of the actor's workspace, or 404."""
    campaign = repository.get_campaign(session, g.actor.workspace_id, campaign_id)
    if campaign is None:
        raise NotFound("no such campaign")
    return campaign


@router.get(
    "/campaigns",
    response_model=Page[CampaignOut],
    summary="List campaigns",
    responses={**BAD_SORT, **INVALID},
)
def list_campaigns(
    session: DbSession,
    g: CampaignRead,
    paging: Paging,
    sort: SortParam = None,
    channel_id: int | None = None,
    is_active: bool | None = None,
) -> Page[CampaignOut]:
    query = repository.campaigns_of(
        g.actor.workspace_id, channel_id=channel_id, is_active=is_active
    )
    sortable = {
        "name": Campaign.name,
        "created_at": Campaign.created_at,
        "starts_on": Campaign.starts_on,
    }
    query = apply_sort(query, sort, sortable, [Campaign.name], Campaign.id)
    rows, total = fetch_page(session, query, paging)
    return Page(items=[CampaignOut.model_validate(r) for r in rows], **_page_fields(paging, total))


@router.post(
    "/campaigns",
    response_model=CampaignOut,
    status_code=201,
    summary="Create a campaign",
    responses={**FORBIDDEN, **INVALID},
)
def create_campaign(
    body: CampaignCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("campaign", Action.CREATE)],
) -> CampaignOut:
    campaign = marketing.create_campaign(session, actor=g.actor, data=body)
    set_etag(response, campaign.id, campaign.version)
    return CampaignOut.model_validate(campaign)


@router.get(
    "/campaigns/match",
    response_model=CampaignOut,
    summary="The campaign for UTM values (the most specific match)",
    responses={
        400: {"description": "No UTM value given"},
        404: {"description": "No campaign matches"},
        **INVALID,
    },
)
def match_campaign(
    session: DbSession,
    g: CampaignRead,
    utm_source: UtmQuery = None,
    utm_medium: UtmQuery = None,
    utm_campaign: UtmQuery = None,
    utm_content: UtmQuery = None,
    utm_term: UtmQuery = None,
) -> CampaignOut:
    values = {
        "utm_source": utm_source,
        "utm_medium": utm_medium,
        "utm_campaign": utm_campaign,
        "utm_content": utm_content,
        "utm_term": utm_term,
    }
    if not any(values.values()):
        raise BadRequest(
            "give at least one UTM value", [ErrorDetail("required", field="utm_source")]
        )
    campaign = marketing.match_campaign(session, workspace_id=g.actor.workspace_id, values=values)
    if campaign is None:
        raise NotFound("no campaign matches these UTM values")
    return CampaignOut.model_validate(campaign)


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignOut,
    summary="Read a campaign",
    responses={**CAMPAIGN_NOT_FOUND, **INVALID},
)
def read_campaign(
    campaign_id: int, session: DbSession, g: CampaignRead, response: Response
) -> CampaignOut:
    campaign = visible_campaign(session, g, campaign_id)
    set_etag(response, campaign.id, campaign.version)
    return CampaignOut.model_validate(campaign)


@router.patch(
    "/campaigns/{campaign_id}",
    response_model=CampaignOut,
    summary="Change a campaign",
    responses={**FORBIDDEN, **CAMPAIGN_NOT_FOUND, **PRECONDITIONS, **INVALID},
)
def update_campaign(
    campaign_id: int,
    body: CampaignUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("campaign", Action.UPDATE)],
) -> CampaignOut:
    campaign = visible_campaign(session, g, campaign_id)
    require_match(request, campaign.id, campaign.version)
    campaign = marketing.update_campaign(session, actor=g.actor, campaign=campaign, data=body)
    set_etag(response, campaign.id, campaign.version)
    return CampaignOut.model_validate(campaign)


@router.delete(
    "/campaigns/{campaign_id}",
    status_code=204,
    summary="Delete a campaign nothing refers to",
    responses={**FORBIDDEN, **CAMPAIGN_NOT_FOUND, **IN_USE, **PRECONDITIONS, **INVALID},
)
def delete_campaign(
    campaign_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("campaign", Action.DELETE)],
) -> Response:
    campaign = visible_campaign(session, g, campaign_id)
    require_match(request, campaign.id, campaign.version)
    marketing.delete_campaign(session, actor=g.actor, campaign=campaign)
    return Response(status_code=204)


# -- ad spend -------------------------------------------------------------------------------

SPEND_SORTABLE = {
    "day": AdSpend.day,
    "cost": AdSpend.cost,
    "campaign_id": AdSpend.campaign_id,
    "impressions": AdSpend.impressions,
    "clicks": AdSpend.clicks,
}


@router.get(
    "/ad-spend",
    response_model=AdSpendPage,
    summary="List daily ad spend with per-currency totals over all matching rows",
    responses={**BAD_SORT, 403: {"description": "Your role may not read ad spend"}, **INVALID},
)
def list_spend(
    session: DbSession,
    g: Annotated[Grant, grant("ad_spend", Action.READ)],
    paging: Paging,
    sort: SortParam = None,
    campaign_id: int | None = None,
    channel_id: int | None = None,
    day_from: date | None = None,
    day_to: Annotated[date | None, Query(description="Inclusive.")] = None,
    currency: CurrencyCode | None = None,
) -> AdSpendPage:
    conditions = repository.spend_conditions(
        g.actor.workspace_id,
        campaign_id=campaign_id,
        channel_id=channel_id,
        day_from=day_from,
        day_to=day_to,
        currency=currency,
    )
    query = apply_sort(
        repository.spend_rows(conditions), sort, SPEND_SORTABLE, [AdSpend.day.desc()], AdSpend.id
    )
    rows, total = fetch_page(session, query, paging)
    totals = [
        SpendTotal(currency=c, cost=cost, impressions=shows, clicks=clicks, rows=count)
        for c, cost, shows, clicks, count in repository.spend_totals(session, conditions)
    ]
    return AdSpendPage(
        items=[AdSpendOut.model_validate(r) for r in rows],
        totals=totals,
        **_page_fields(paging, total),
    )


@router.put(
    "/ad-spend",
    response_model=AdSpendUpsertResult,
    summary="Create or overwrite spend rows by (campaign_id, day); all rows or none",
    responses={
        403: {"description": "Your role may not write ad spend"},
        422: {"description": "A row is invalid; details name the row index and field"},
    },
)
def put_spend(
    body: AdSpendBatch,
    session: DbSession,
    g: Annotated[Grant, grant("ad_spend", Action.UPDATE)],
) -> AdSpendUpsertResult:
    rows, counts = marketing.upsert_spend(session, actor=g.actor, rows=body.rows)
    return AdSpendUpsertResult(items=[AdSpendOut.model_validate(r) for r in rows], **counts)


@router.delete(
    "/ad-spend/{spend_id}",
    status_code=204,
    summary="Delete one spend row (a correction)",
    responses={
        403: {"description": "Your role may not delete ad spend"},
        404: {"description": "No such spend row"},
        **INVALID,
    },
)
def delete_spend(
    spend_id: int,
    session: DbSession,
    g: Annotated[Grant, grant("ad_spend", Action.DELETE)],
) -> Response:
    row = repository.get_spend(session, g.actor.workspace_id, spend_id)
    if row is None:
        raise NotFound("no such spend row")
    marketing.delete_spend(session, actor=g.actor, row=row)
    return Response(status_code=204)


# -- tracking numbers -----------------------------------------------------------------------

NumberRead = Annotated[Grant, grant("tracking_number", Action.READ)]
NUMBER_NOT_FOUND: Responses = {404: {"description": "No such tracking number"}}


def visible_number(session: DbSession, g: Grant, number_id: int) -> TrackingNumber:
    """The tracking number of the actor's workspace, or 404."""
    record = repository.get_number(session, g.actor.workspace_id, number_id)
    if record is None:
        raise NotFound("no such tracking number")
    return record


@router.get(
    "/tracking-numbers",
    response_model=Page[TrackingNumberOut],
    summary="List tracking numbers",
    responses={**BAD_SORT, **INVALID},
)
def list_numbers(
    session: DbSession,
    g: NumberRead,
    paging: Paging,
    sort: SortParam = None,
    campaign_id: int | None = None,
    channel_id: int | None = None,
    is_active: bool | None = None,
) -> Page[TrackingNumberOut]:
    query = repository.numbers_of(
        g.actor.workspace_id, campaign_id=campaign_id, channel_id=channel_id, is_active=is_active
    )
    sortable = {"number": TrackingNumber.number, "created_at": TrackingNumber.created_at}
    query = apply_sort(query, sort, sortable, [TrackingNumber.number], TrackingNumber.id)
    rows, total = fetch_page(session, query, paging)
    return Page(
        items=[TrackingNumberOut.model_validate(r) for r in rows], **_page_fields(paging, total)
    )


@router.post(
    "/tracking-numbers",
    response_model=TrackingNumberOut,
    status_code=201,
    summary="Register a tracking number (stored as E.164)",
    responses={**FORBIDDEN, 409: {"description": "Number taken"}, **INVALID},
)
def create_number(
    body: TrackingNumberCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("tracking_number", Action.CREATE)],
) -> TrackingNumberOut:
    record = marketing.create_tracking_number(session, actor=g.actor, data=body)
    set_etag(response, record.id, record.version)
    return TrackingNumberOut.model_validate(record)


@router.get(
    "/tracking-numbers/lookup",
    response_model=TrackingNumberOut,
    summary="The tracking number a call was made to, in any format (call tracking)",
    responses={404: {"description": "Not a tracking number"}, **INVALID},
)
def lookup_number(
    session: DbSession,
    g: NumberRead,
    number: Annotated[str, Query(min_length=1, max_length=40)],
) -> TrackingNumberOut:
    record = marketing.lookup_number(session, workspace_id=g.actor.workspace_id, raw=number)
    if record is None:
        raise NotFound("not a tracking number")
    return TrackingNumberOut.model_validate(record)


@router.get(
    "/tracking-numbers/{number_id}",
    response_model=TrackingNumberOut,
    summary="Read a tracking number",
    responses={**NUMBER_NOT_FOUND, **INVALID},
)
def read_number(
    number_id: int, session: DbSession, g: NumberRead, response: Response
) -> TrackingNumberOut:
    record = visible_number(session, g, number_id)
    set_etag(response, record.id, record.version)
    return TrackingNumberOut.model_validate(record)


@router.patch(
    "/tracking-numbers/{number_id}",
    response_model=TrackingNumberOut,
    summary="Change a tracking number (deactivate it rather than delete: calls refer to it)",
    responses={
        **FORBIDDEN,
        **NUMBER_NOT_FOUND,
        409: {"description": "Number taken"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def update_number(
    number_id: int,
    body: TrackingNumberUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("tracking_number", Action.UPDATE)],
) -> TrackingNumberOut:
    record = visible_number(session, g, number_id)
    require_match(request, record.id, record.version)
    record = marketing.update_tracking_number(session, actor=g.actor, record=record, data=body)
    set_etag(response, record.id, record.version)
    return TrackingNumberOut.model_validate(record)


# -- touchpoints ----------------------------------------------------------------------------

TOUCHPOINT_SORTABLE = {"occurred_at": Touchpoint.occurred_at}


@router.get(
    "/touchpoints",
    response_model=Page[TouchpointOut],
    summary="List touchpoints (narrower scopes see only their clients' touchpoints)",
    responses={**BAD_SORT, 403: {"description": "Your role may not read touchpoints"}, **INVALID},
)
def list_touchpoints(
    session: DbSession,
    g: Annotated[Grant, grant("touchpoint", Action.READ)],
    paging: Paging,
    sort: SortParam = None,
    client_id: int | None = None,
    visitor_id: Annotated[str | None, Query(max_length=64)] = None,
    campaign_id: int | None = None,
    channel_id: int | None = None,
    kind: TouchpointKind | None = None,
    occurred_from: AwareDatetime | None = None,
    occurred_to: AwareDatetime | None = None,
) -> Page[TouchpointOut]:
    query = repository.filtered_touchpoints(
        repository.touchpoints_visible_to(g.actor, g.scope),
        client_id=client_id,
        visitor_id=visitor_id,
        campaign_id=campaign_id,
        channel_id=channel_id,
        kind=kind,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    query = apply_sort(
        query, sort, TOUCHPOINT_SORTABLE, [Touchpoint.occurred_at.desc()], Touchpoint.id
    )
    rows, total = fetch_page(session, query, paging)
    # visitor ids are personal data: lists of them are audited like client lists
    audit.record(
        session,
        g.actor,
        action="list",
        entity="touchpoint",
        row_count=len(rows),
        detail={"page": paging.page, "client_id": client_id},
    )
    return Page(
        items=[TouchpointOut.model_validate(r) for r in rows], **_page_fields(paging, total)
    )


@router.post(
    "/touchpoints",
    response_model=TouchpointOut,
    status_code=201,
    summary="Record a touchpoint (the campaign is found from UTM values when not given)",
    responses={403: {"description": "Your role may not record touchpoints"}, **INVALID},
)
def create_touchpoint(
    body: TouchpointCreate,
    session: DbSession,
    g: Annotated[Grant, grant("touchpoint", Action.CREATE)],
) -> TouchpointOut:
    touchpoint = marketing.create_touchpoint(session, actor=g.actor, scope=g.scope, data=body)
    return TouchpointOut.model_validate(touchpoint)
