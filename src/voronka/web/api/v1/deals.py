"""Deals: list and search, card, changes, moves between stages, stage history.

A deal is visible exactly when its client is; others' deals are 404 like missing ids.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from voronka.access.policy import Action
from voronka.access.scope import owner_in_scope
from voronka.deal import repository
from voronka.deal import service as deal_service
from voronka.deal.models import Deal, DealStatus
from voronka.deal.repository import DealFilter
from voronka.deal.schemas import DealCreate, DealHistory, DealMove, DealOut, DealUpdate
from voronka.errors import ErrorDetail, Forbidden, NotFound
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, SortParam, apply_sort, fetch_page, like_pattern

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(tags=["deals"], responses={401: {"description": "Not signed in"}})
Read = Annotated[Grant, grant("deal", Action.READ)]
Change = Annotated[Grant, grant("deal", Action.UPDATE)]
NOT_FOUND: Responses = {404: {"description": "No such deal visible to you"}}
INVALID: Responses = {422: {"description": "Invalid input; the details name the field"}}
WRITE_ERRORS: Responses = {
    **NOT_FOUND,
    **INVALID,
    403: {"description": "Your role may not do this"},
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}
SORTABLE = {
    "title": Deal.title,
    "amount": Deal.amount,
    "created_at": Deal.created_at,
    "updated_at": Deal.updated_at,
    "closed_at": Deal.closed_at,
    "stage_entered_at": Deal.stage_entered_at,
    "expected_close_on": Deal.expected_close_on,
    "id": Deal.id,
}
AmountBound = Annotated[
    Decimal | None, Query(ge=0, max_digits=15, decimal_places=2, description="Inclusive.")
]


def visible_deal(session: DbSession, g: Grant, deal_id: int) -> Deal:
    """The deal if the grant's scope covers its client; otherwise 404 as for a missing id."""
    deal = repository.get_visible(session, g.actor, g.scope, deal_id)
    if deal is None:
        raise NotFound("no such deal")
    return deal


def _out(response: Response, deal: Deal) -> DealOut:
    set_etag(response, deal.id, deal.version)
    return DealOut.model_validate(deal)


@router.get(
    "/deals",
    response_model=Page[DealOut],
    summary="List and search deals",
    responses={
        400: {"description": "Unknown sort field"},
        403: {"description": "Role without deal access, or owner filter outside your scope"},
    },
)
def list_deals(
    session: DbSession,
    g: Read,
    paging: Paging,
    sort: SortParam = None,
    q: Annotated[str | None, Query(max_length=200, description="Search in the title")] = None,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    status: DealStatus | None = None,
    owner_id: int | None = None,
    client_id: int | None = None,
    channel_id: int | None = None,
    campaign_id: int | None = None,
    created_from: datetime | None = None,
    created_to: Annotated[datetime | None, Query(description="Exclusive.")] = None,
    closed_from: datetime | None = None,
    closed_to: Annotated[datetime | None, Query(description="Exclusive.")] = None,
    amount_min: AmountBound = None,
    amount_max: AmountBound = None,
) -> Page[DealOut]:
    if owner_id is not None and not owner_in_scope(session, g.actor, g.scope, owner_id):
        raise Forbidden(
            "you may not filter by that owner",
            [ErrorDetail("outside your scope", field="owner_id")],
        )
    deal_filter = DealFilter(
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        status=status,
        owner_id=owner_id,
        client_id=client_id,
        channel_id=channel_id,
        campaign_id=campaign_id,
        created_from=created_from,
        created_to=created_to,
        closed_from=closed_from,
        closed_to=closed_to,
        amount_min=amount_min,
        amount_max=amount_max,
        title_like=like_pattern(q.lower()) if q else None,
    )
    query = repository.filtered(session, repository.visible_to(g.actor, g.scope), deal_filter)
    query = apply_sort(query, sort, SORTABLE, [Deal.created_at.desc()], Deal.id)
    rows, total = fetch_page(session, query, paging)
    return Page(
        items=[DealOut.model_validate(d) for d in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/deals",
    response_model=DealOut,
    status_code=201,
    summary="Create a deal (it enters its starting stage)",
    responses={
        **INVALID,
        403: {"description": "Role without deal access, or owner outside your scope"},
        409: {"description": "Archived pipeline or stage"},
    },
)
def create_deal(
    body: DealCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("deal", Action.CREATE)],
) -> DealOut:
    deal = deal_service.create(session, actor=g.actor, scope=g.scope, data=body)
    return _out(response, deal)


@router.get(
    "/deals/{deal_id}",
    response_model=DealOut,
    summary="Read a deal",
    responses={**NOT_FOUND, 403: {"description": "Role without deal access"}},
)
def read_deal(deal_id: int, session: DbSession, g: Read, response: Response) -> DealOut:
    return _out(response, visible_deal(session, g, deal_id))


@router.patch(
    "/deals/{deal_id}",
    response_model=DealOut,
    summary="Change a deal (not its stage: see move)",
    responses=WRITE_ERRORS,
)
def update_deal(
    deal_id: int,
    body: DealUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Change,
) -> DealOut:
    deal = visible_deal(session, g, deal_id)
    require_match(request, deal.id, deal.version)
    deal = deal_service.update_deal(session, actor=g.actor, scope=g.scope, deal=deal, data=body)
    return _out(response, deal)


@router.delete(
    "/deals/{deal_id}",
    status_code=204,
    summary="Delete (hide) a deal",
    responses=WRITE_ERRORS,
)
def delete_deal(
    deal_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("deal", Action.DELETE)],
) -> Response:
    deal = visible_deal(session, g, deal_id)
    require_match(request, deal.id, deal.version)
    deal_service.soft_delete(session, actor=g.actor, deal=deal)
    return Response(status_code=204)


@router.post(
    "/deals/{deal_id}/move",
    response_model=DealOut,
    summary="Move a deal to another stage (and record it in the history)",
    responses={
        **WRITE_ERRORS,
        403: {"description": "Reopening a won or lost deal needs the reassign right"},
        409: {
            "description": "Transition not allowed (same, archived or skipped stage, "
            "another pipeline without pipeline_id)"
        },
    },
)
def move_deal(
    deal_id: int,
    body: DealMove,
    request: Request,
    response: Response,
    session: DbSession,
    g: Change,
) -> DealOut:
    deal = visible_deal(session, g, deal_id)
    require_match(request, deal.id, deal.version)
    deal = deal_service.move_to_stage(session, actor=g.actor, deal=deal, data=body)
    return _out(response, deal)


@router.get(
    "/deals/{deal_id}/history",
    response_model=DealHistory,
    summary="Stage changes in order, with the time spent in each stage",
    responses={**NOT_FOUND, 403: {"description": "Role without deal access"}},
)
def deal_history(
    deal_id: int,
    session: DbSession,
    g: Read,
    limit: Annotated[int, Query(ge=1, le=1000, description="Oldest changes first.")] = 1000,
) -> DealHistory:
    deal = visible_deal(session, g, deal_id)
    return deal_service.history(session, deal=deal, limit=limit)
