"""The pipeline board (kanban): drag a card or use its Move form; a deal's own page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from voronka.access.policy import Action
from voronka.access.scope import owner_in_scope
from voronka.deal import repository as deal_repository
from voronka.deal import service as deal_service
from voronka.deal.schemas import DealMove
from voronka.errors import ErrorDetail, Forbidden, NotFound
from voronka.pipeline import repository as pipeline_repository
from voronka.pipeline import service as pipeline_service
from voronka.pipeline.models import Pipeline
from voronka.web.deps import DbSession
from voronka.web.ui.auth import PageGrant, page_grant
from voronka.web.ui.pages.common import form_int, managers, validated
from voronka.web.ui.render import UiRoute, render

router = APIRouter(route_class=UiRoute)
DealReader = Annotated[PageGrant, Depends(page_grant("deal", Action.READ))]
DealMover = Annotated[PageGrant, Depends(page_grant("deal", Action.UPDATE))]
CARDS_PER_STAGE = 30


def _pipeline(session: Any, g: PageGrant, pipeline_id: int | None) -> Pipeline:
    pipeline = (
        pipeline_repository.get(session, g.actor, pipeline_id)
        if pipeline_id is not None
        else pipeline_repository.default_pipeline(session, g.actor)
    )
    if pipeline is None:
        pipeline = session.scalars(pipeline_repository.of_workspace(g.actor)).first()
    if pipeline is None:
        raise NotFound("no pipeline yet: an administrator creates one in Settings")
    return pipeline


def _owner(session: Any, g: PageGrant, raw: str | None) -> int | None:
    owner_id = form_int(raw, "owner_id")
    if owner_id is not None and not owner_in_scope(session, g.actor, g.scope, owner_id):
        raise Forbidden("you may not filter by that owner",
                        [ErrorDetail("outside your scope", field="owner_id")])
    return owner_id


def board_context(session: Any, g: PageGrant, pipeline: Pipeline, owner_id: int | None) -> dict[str, Any]:
    board = pipeline_service.board(session, actor=g.actor, scope=g.scope, pipeline=pipeline,
                                   owner_id=owner_id, per_stage=CARDS_PER_STAGE)
    return {
        "board": board, "pipeline": pipeline, "owner_id": owner_id,
        "pipelines": session.scalars(pipeline_repository.of_workspace(g.actor)).all(),
        "owners": managers(session, g.viewer),
        "stages": [(c.stage_id, c.name) for c in board.columns],
    }


@router.get("/ui/board")
def board_page(request: Request, session: DbSession, g: DealReader) -> Response:
    pipeline = _pipeline(session, g, form_int(request.query_params.get("pipeline_id"), "pipeline_id"))
    owner_id = _owner(session, g, request.query_params.get("owner_id"))
    return render(request, "board.html", {"title": "Pipeline",
                                          **board_context(session, g, pipeline, owner_id)})


@router.post("/ui/board/move")
def move(
    request: Request, session: DbSession, g: DealMover,
    deal_id: Annotated[str, Form(max_length=20)],
    stage_id: Annotated[str, Form(max_length=20)],
    owner_id: Annotated[str, Form(max_length=20)] = "",
    lost_reason: Annotated[str, Form(max_length=300)] = "",
    return_to: Annotated[str, Form(max_length=10)] = "board",
) -> Response:
    deal = deal_repository.get_visible(session, g.actor, g.scope, form_int(deal_id, "deal_id") or 0)
    if deal is None:
        raise NotFound("no such deal")
    data = validated(DealMove, {"stage_id": form_int(stage_id, "stage_id"),
                                "lost_reason": lost_reason or None})
    deal_service.move_to_stage(session, actor=g.actor, deal=deal, data=data)
    if return_to == "deal":
        target = f"/ui/deals/{deal.id}"
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    pipeline = _pipeline(session, g, deal.pipeline_id)
    context = board_context(session, g, pipeline, _owner(session, g, owner_id))
    return render(request, "_board.html", {**context, "flash": "Deal moved"})


@router.get("/ui/deals/{deal_id}")
def deal_page(deal_id: int, request: Request, session: DbSession, g: DealReader) -> Response:
    deal = deal_repository.get_visible(session, g.actor, g.scope, deal_id)
    if deal is None:
        raise NotFound("no such deal")
    history = deal_service.history(session, deal=deal, limit=100)
    pipeline = _pipeline(session, g, deal.pipeline_id)
    return render(request, "deal.html", {
        "title": "Deals", "deal": deal, "history": history.items,
        "stages": [(s.id, s.name) for s in pipeline_service.active_stages(pipeline)],
    })
