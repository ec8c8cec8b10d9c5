"""Saved segments (target lists): create from a report run or an RFM segment, list, read,
export the members as CSV, delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from voronka import clock
from voronka.access.policy import Action
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.segment import repository
from voronka.segment import service as segments
from voronka.segment.models import Segment
from voronka.segment.schemas import SegmentCreate, SegmentOut
from voronka.transfer.writing import csv_chunks
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.listing import Page, Paging, SortParam, apply_sort, fetch_page

router = APIRouter(tags=["segments"], responses={401: {"description": "Not signed in"}})
Responses = dict[int | str, dict[str, Any]]
MISSING: Responses = {404: {"description": "No such segment (or not yours to see)"}}
FORBIDDEN: Responses = {403: {"description": "Your role may not do this with segments"}}

Reader = Annotated[Grant, grant("segment", Action.READ)]
Creator = Annotated[Grant, grant("segment", Action.CREATE)]
Deleter = Annotated[Grant, grant("segment", Action.DELETE)]
Exporter = Annotated[Grant, grant("segment", Action.EXPORT)]


@router.post(
    "/segments", response_model=SegmentOut, status_code=201,
    summary="Save a segment of a segments report run, or an RFM segment, as a target list",
    responses={**FORBIDDEN, 409: {"description": "Name taken"},
               400: {"description": "The report query is not a JSON object"},
               422: {"description": "Invalid input; details name the field"}},
)
def create_segment(body: SegmentCreate, session: DbSession, g: Creator) -> SegmentOut:
    return SegmentOut.model_validate(segments.create(session, actor=g.actor, data=body))


@router.get("/segments", response_model=Page[SegmentOut], summary="Saved segments",
            responses={**FORBIDDEN, 400: {"description": "Unknown sort field"}})
def list_segments(session: DbSession, g: Reader, paging: Paging,
                  sort: SortParam = None) -> Page[SegmentOut]:
    sortable = {"name": Segment.name, "created_at": Segment.created_at,
                "member_count": Segment.member_count}
    query = apply_sort(repository.visible_to(g.actor, g.scope), sort, sortable,
                       [Segment.created_at.desc()], Segment.id)
    rows, total = fetch_page(session, query, paging)
    return Page(items=[SegmentOut.model_validate(r) for r in rows], total=total,
                page=paging.page, page_size=paging.page_size)


@router.get("/segments/{segment_id}", response_model=SegmentOut, summary="One saved segment",
            responses={**FORBIDDEN, **MISSING})
def get_segment(segment_id: int, session: DbSession, g: Reader) -> SegmentOut:
    segment = segments.get(session, actor=g.actor, scope=g.scope, segment_id=segment_id)
    return SegmentOut.model_validate(segment)


@router.get(
    "/segments/{segment_id}/members.csv",
    summary="The members as CSV: name and contacts of the clients you may read, else ids",
    response_class=StreamingResponse,
    responses={**FORBIDDEN, **MISSING, 200: {"content": {"text/csv": {}}}},
)
def export_members(segment_id: int, request: Request, session: DbSession,
                   g: Exporter) -> StreamingResponse:
    segment = segments.get(session, actor=g.actor, scope=g.scope, segment_id=segment_id)
    plan = segments.plan_export(session, actor=g.actor, segment=segment)
    engine = request.app.state.engine
    zone = ZoneInfo(get_settings().timezone)

    def body() -> Iterator[bytes]:
        with unit_of_work(engine, write=False) as stream_session:
            rows = segments.export_rows(stream_session, actor=g.actor, segment_id=segment_id,
                                        plan=plan)
            yield from csv_chunks(plan.header, rows, zone)

    filename = f"segment-{segment_id}-{clock.now():%Y-%m-%d}.csv"
    return StreamingResponse(
        body(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store"})


@router.delete("/segments/{segment_id}", status_code=204, response_class=Response,
               summary="Delete a saved segment", responses={**FORBIDDEN, **MISSING})
def delete_segment(segment_id: int, session: DbSession, g: Deleter) -> Response:
    segments.delete(session, actor=g.actor, scope=g.scope, segment_id=segment_id)
    return Response(status_code=204)
