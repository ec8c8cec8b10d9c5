"""Pipelines and stages (administrators shape them, everyone reads them) and the deal board.

Stage changes answer with the whole pipeline: its ETag guards the structure, so send it as
``If-Match`` with the next change.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from voronka.access.policy import Action
from voronka.access.scope import owner_in_scope
from voronka.errors import ErrorDetail, Forbidden, NotFound
from voronka.pipeline import repository
from voronka.pipeline import service as pipeline_service
from voronka.pipeline.models import Pipeline, Stage
from voronka.pipeline.schemas import (
    Board,
    PipelineCreate,
    PipelineOut,
    PipelineUpdate,
    StageAdd,
    StageOrder,
    StageUpdate,
)
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, SortParam, apply_sort, fetch_page

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(tags=["pipelines"], responses={401: {"description": "Not signed in"}})
Read = Annotated[Grant, grant("pipeline", Action.READ)]
Change = Annotated[Grant, grant("pipeline", Action.UPDATE)]
NOT_FOUND: Responses = {404: {"description": "No such pipeline (or stage of it)"}}
FORBIDDEN: Responses = {403: {"description": "Your role may not change pipelines"}}
WRITE_ERRORS: Responses = {
    **NOT_FOUND,
    **FORBIDDEN,
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}
SORTABLE = {
    "position": Pipeline.position,
    "name": Pipeline.name,
    "created_at": Pipeline.created_at,
    "id": Pipeline.id,
}
MAX_CARDS_PER_STAGE = 100


def visible_pipeline(session: DbSession, g: Grant, pipeline_id: int) -> Pipeline:
    """The pipeline of the caller's workspace; otherwise 404 as for a missing id."""
    pipeline = repository.get(session, g.actor, pipeline_id)
    if pipeline is None:
        raise NotFound("no such pipeline")
    return pipeline


def stage_in(pipeline: Pipeline, stage_id: int) -> Stage:
    """The stage of this pipeline; otherwise 404."""
    stage = pipeline_service.stage_of(pipeline, stage_id)
    if stage is None:
        raise NotFound("no such stage in this pipeline")
    return stage


def _out(response: Response, pipeline: Pipeline) -> PipelineOut:
    set_etag(response, pipeline.id, pipeline.version)
    return PipelineOut.model_validate(pipeline)


@router.get(
    "/pipelines",
    response_model=Page[PipelineOut],
    summary="List pipelines with their stages in order",
    responses={400: {"description": "Unknown sort field"}},
)
def list_pipelines(
    session: DbSession,
    g: Read,
    paging: Paging,
    sort: SortParam = None,
    include_archived: bool = False,
) -> Page[PipelineOut]:
    query = repository.of_workspace(g.actor, include_archived=include_archived)
    query = apply_sort(query, sort, SORTABLE, [Pipeline.position], Pipeline.id)
    rows, total = fetch_page(session, query, paging)
    return Page(
        items=[PipelineOut.model_validate(p) for p in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/pipelines",
    response_model=PipelineOut,
    status_code=201,
    summary="Create a pipeline with its stages",
    responses=FORBIDDEN,
)
def create_pipeline(
    body: PipelineCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("pipeline", Action.CREATE)],
) -> PipelineOut:
    pipeline = pipeline_service.create(session, actor=g.actor, data=body)
    return _out(response, pipeline)


@router.get(
    "/pipelines/{pipeline_id}",
    response_model=PipelineOut,
    summary="Read a pipeline and its stages",
    responses=NOT_FOUND,
)
def read_pipeline(pipeline_id: int, session: DbSession, g: Read, response: Response) -> PipelineOut:
    return _out(response, visible_pipeline(session, g, pipeline_id))


@router.patch(
    "/pipelines/{pipeline_id}",
    response_model=PipelineOut,
    summary="Rename, reorder, make default, set strict order, archive",
    responses={**WRITE_ERRORS, 409: {"description": "Archiving a pipeline with open deals"}},
)
def update_pipeline(
    pipeline_id: int,
    body: PipelineUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Change,
) -> PipelineOut:
    pipeline = visible_pipeline(session, g, pipeline_id)
    require_match(request, pipeline.id, pipeline.version)
    pipeline_service.update_pipeline(session, actor=g.actor, pipeline=pipeline, data=body)
    return _out(response, pipeline)


@router.post(
    "/pipelines/{pipeline_id}/stages",
    response_model=PipelineOut,
    status_code=201,
    summary="Add a stage; answers with the whole pipeline",
    responses=WRITE_ERRORS,
)
def add_stage(
    pipeline_id: int,
    body: StageAdd,
    request: Request,
    response: Response,
    session: DbSession,
    g: Change,
) -> PipelineOut:
    pipeline = visible_pipeline(session, g, pipeline_id)
    require_match(request, pipeline.id, pipeline.version)
    pipeline_service.add_stage(session, actor=g.actor, pipeline=pipeline, data=body)
    return _out(response, pipeline)


@router.post(
    "/pipelines/{pipeline_id}/stages/reorder",
    response_model=PipelineOut,
    summary="Put the active stages in a new order",
    responses=WRITE_ERRORS,
)
def reorder_stages(
    pipeline_id: int,
    body: StageOrder,
    request: Request,
    response: Response,
    session: DbSession,
    g: Change,
) -> PipelineOut:
    pipeline = visible_pipeline(session, g, pipeline_id)
    require_match(request, pipeline.id, pipeline.version)
    pipeline_service.reorder_stages(session, actor=g.actor, pipeline=pipeline, data=body)
    return _out(response, pipeline)


@router.patch(
    "/pipelines/{pipeline_id}/stages/{stage_id}",
    response_model=PipelineOut,
    summary="Rename a stage, change its probability or (while unused) its kind",
    responses={
        **WRITE_ERRORS,
        409: {"description": "Kind of a used stage, or no open/won/lost stage would remain"},
    },
)
def update_stage(
    pipeline_id: int,
    stage_id: int,
    body: StageUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Change,
) -> PipelineOut:
    pipeline = visible_pipeline(session, g, pipeline_id)
    stage = stage_in(pipeline, stage_id)
    require_match(request, pipeline.id, pipeline.version)
    pipeline_service.update_stage(session, actor=g.actor, pipeline=pipeline, stage=stage, data=body)
    return _out(response, pipeline)


@router.post(
    "/pipelines/{pipeline_id}/stages/{stage_id}/archive",
    response_model=PipelineOut,
    summary="Archive a stage (refused while it holds open deals)",
    responses={
        **WRITE_ERRORS,
        409: {"description": "Open deals in the stage, or no open/won/lost stage would remain"},
    },
)
def archive_stage(
    pipeline_id: int,
    stage_id: int,
    request: Request,
    response: Response,
    session: DbSession,
    g: Change,
) -> PipelineOut:
    pipeline = visible_pipeline(session, g, pipeline_id)
    stage = stage_in(pipeline, stage_id)
    require_match(request, pipeline.id, pipeline.version)
    pipeline_service.archive_stage(session, actor=g.actor, pipeline=pipeline, stage=stage)
    return _out(response, pipeline)


@router.get(
    "/pipelines/{pipeline_id}/board",
    response_model=Board,
    summary="Kanban board: per stage the number of your visible deals, sums, newest cards",
    responses={
        **NOT_FOUND,
        403: {"description": "Role without deal access, or owner filter outside your scope"},
    },
)
def read_board(
    pipeline_id: int,
    session: DbSession,
    g: Annotated[Grant, grant("deal", Action.READ)],
    owner_id: int | None = None,
    per_stage: Annotated[
        int, Query(ge=0, le=MAX_CARDS_PER_STAGE, description="Deal cards per stage.")
    ] = 20,
) -> Board:
    pipeline = visible_pipeline(session, g, pipeline_id)
    if owner_id is not None and not owner_in_scope(session, g.actor, g.scope, owner_id):
        raise Forbidden(
            "you may not filter by that owner",
            [ErrorDetail("outside your scope", field="owner_id")],
        )
    return pipeline_service.board(
        session,
        actor=g.actor,
        scope=g.scope,
        pipeline=pipeline,
        owner_id=owner_id,
        per_stage=per_stage,
    )
