"""Public ingestion endpoints: the site tracker, its number pool, and lead forms.

These routes are listed in ``deps.PUBLIC_ROUTES``: browsers on customers' sites call them
without signing in. Bodies are read raw (the snippet sends JSON as ``text/plain`` so that
no CORS preflight is needed) and every response, errors included, carries
``Access-Control-Allow-Origin: *`` (no credentials are ever accepted). Site keys, allowed
origins, bot rules, rate limits and spam traps guard them; see docs/site-tracker.md and
docs/lead-forms.md.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from voronka import clock
from voronka.db.session import unit_of_work
from voronka.errors import VoronkaError
from voronka.lead import service as lead_service
from voronka.lead.schemas import PublicForm, SubmissionAck
from voronka.tracking import guard, receive
from voronka.tracking.ratelimit import Limit, buckets, form_limit, tracking_ip_limit, tracking_limit
from voronka.tracking.schemas import NumberAsk, NumberOut
from voronka.web.errors import error_body

CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": "600"}


class PublicRoute(APIRoute):
    """Renders domain errors itself so that they, too, carry the CORS header."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except VoronkaError as exc:
                body = error_body(
                    request, exc.code, exc.message, [d.as_dict() for d in exc.details]
                )
                response = JSONResponse(body, exc.status)
            except HTTPException as exc:
                if exc.status_code != 429:
                    raise
                body = error_body(request, "too_many_requests", str(exc.detail))
                response = JSONResponse(body, 429, headers=exc.headers)
            response.headers.update(CORS)
            return response

        return with_cors


router = APIRouter(tags=["ingestion"], route_class=PublicRoute)
BAD: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed payload, bot or missing JavaScript signals; names the field"},
    403: {"description": "The page is not on an allowed origin of the site"},
    404: {"description": "No such site or form"},
    429: {"description": "Too many requests; see Retry-After"},
}


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limit(keys: list[tuple[str, Limit]]) -> None:
    for key, limit in keys:
        wait = buckets().take(key, limit)
        if wait is not None:
            raise HTTPException(
                429, "too many requests; slow down", headers={"Retry-After": str(wait)}
            )


@router.post(
    "/collect",
    status_code=202,
    summary="Tracker hit: page view, heartbeat, leave or goal (public)",
    responses=BAD,
)
async def collect(request: Request) -> dict[str, Any]:
    body = await request.body()
    hit = receive.parse_hit(body, request.headers.get("user-agent"))
    _limit([
        (f"t:v:{hit.site}:{hit.visitor}", tracking_limit()),
        (f"t:ip:{_client_ip(request)}", tracking_ip_limit()),
    ])
    outcome = await run_in_threadpool(
        receive.receive_hit,
        request.app.state.engine,
        hit=hit,
        body=body,
        origin=request.headers.get("origin"),
        headers=dict(request.headers),
    )
    return {"status": "received", "duplicate": outcome.duplicate}


@router.post(
    "/collect/number",
    response_model=NumberOut,
    summary="The phone number to show on this page, reserved for the visit (public)",
    responses=BAD,
)
async def collect_number(request: Request) -> NumberOut:
    body = await request.body()
    guard.check_agent(request.headers.get("user-agent"))
    ask = guard.parse(body, NumberAsk)
    _limit([
        (f"t:v:{ask.site}:{ask.visitor}", tracking_limit()),
        (f"t:ip:{_client_ip(request)}", tracking_ip_limit()),
    ])
    return await run_in_threadpool(
        _number, request.app.state.engine, ask, request.headers.get("origin")
    )


def _number(engine: Engine, ask: NumberAsk, origin: str | None) -> NumberOut:
    with unit_of_work(engine) as session:
        return receive.ask_number(session, ask=ask, origin=origin, now=clock.now())


@router.get(
    "/forms/{form_key}",
    response_model=PublicForm,
    summary="A lead form's fields and a fill-time token (public)",
    responses={404: {"description": "No such form"},
               429: {"description": "Too many requests; see Retry-After"}},
)
def read_form(form_key: str, request: Request) -> PublicForm:
    _limit([(f"t:ip:{_client_ip(request)}", tracking_ip_limit())])
    with unit_of_work(request.app.state.engine, write=False) as session:
        return lead_service.public_form(session, form_key=form_key, now=clock.now())


@router.post(
    "/forms/{form_key}",
    response_model=SubmissionAck,
    status_code=202,
    summary="Submit a lead form (public; idempotent by submission_id)",
    responses={
        **BAD,
        401: {"description": "Signed form: X-Voronka-Signature missing or wrong"},
        422: {"description": "A field is missing or invalid; details name it"},
    },
)
async def submit_form(form_key: str, request: Request) -> SubmissionAck:
    body = await request.body()
    _limit([(f"f:ip:{_client_ip(request)}", form_limit())])
    return await run_in_threadpool(
        lead_service.receive_submission,
        request.app.state.engine,
        form_key=form_key,
        body=body,
        signature=request.headers.get("x-voronka-signature"),
        headers=dict(request.headers),
        now=clock.now(),
    )
