"""Running a report for an actor: parse the query, check the data it needs, run it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Action, require
from voronka.analytics import catalog, drilldown, engine
from voronka.analytics.metrics.registry import METRICS
from voronka.analytics.reports import funnel
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import RecordScope
from voronka.audit import service as audit
from voronka.config import Settings
from voronka.errors import BadRequest, ErrorDetail, Forbidden, InvalidInput

#: Resources whose figures are company-wide, not per client: a report using them needs READ.
COMPANY_WIDE = frozenset({"ad_spend"})


def parse_query(report: catalog.Report, raw: str | dict[str, Any]) -> BaseModel:
    """Validate a query (JSON text or dict); errors name the field, as everywhere."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise BadRequest(
                f"q is not valid JSON: {exc.msg}", [ErrorDetail(exc.msg, field="q")]
            ) from exc
    if not isinstance(raw, dict):
        raise BadRequest("q must be a JSON object", [ErrorDetail("not an object", field="q")])
    try:
        return report.query.model_validate(raw)
    except ValidationError as exc:
        details = [
            ErrorDetail(str(e["msg"]), field=".".join(str(p) for p in e["loc"]))
            for e in exc.errors()
        ]
        fields = ", ".join(sorted({d.field or "" for d in details}))
        raise InvalidInput(f"invalid report query: {fields}", details) from exc


def needed_resources(report: catalog.Report, query: BaseModel) -> set[str]:
    metrics = getattr(query, "metrics", ()) or ()
    return set(report.resources).union(*(METRICS[m].resources for m in metrics if m in METRICS))


def lists_clients(name: str, raw_query: str | dict[str, Any]) -> bool:
    """Whether report ``name`` answers ``raw_query`` with client rows (``Report.lists_clients``)."""
    report = catalog.get(name)
    return report.lists_clients(parse_query(report, raw_query))


def drill(
    session: Session,
    actor: Actor,
    raw_query: str | dict[str, Any],
    settings: Settings | None = None,
) -> Result:
    """List the records behind a figure; needs READ on those records (and their scope)."""
    report = catalog.Report(
        "drilldown", "Drill-down", "Детализация", drilldown.DrilldownQuery, drilldown.run, ()
    )  # type: ignore[arg-type]
    query = parse_query(report, raw_query)
    measure = query.measure  # type: ignore[attr-defined]
    require(actor, drilldown.resource_of(measure), Action.READ)
    result = _run_scoped(session, engine.record_scope(session, actor), report, query, settings)
    entity = drilldown.RECORDS[measure][0]
    _audit_listing(session, actor, entity, result, {"view": "drilldown", "measure": measure})
    return result


def funnel_dropped(
    session: Session,
    actor: Actor,
    raw_query: str | dict[str, Any],
    *,
    step: int,
    key: int | None,
    cohort: date | None,
    limit: int,
    settings: Settings | None = None,
) -> Result:
    """The deals that dropped before funnel ``step``; needs READ on deals (and their scope)."""
    report = catalog.get("funnel")
    query = parse_query(report, raw_query)
    require(actor, "deal", Action.READ)
    with _scoped_runner(session, engine.record_scope(session, actor), settings) as runner:
        result = funnel.dropped_at(
            runner,
            query,
            step,
            key=key,
            limit=limit,  # type: ignore[arg-type]
            cohort=cohort,
        )
    _audit_listing(session, actor, "deal", result, {"view": "funnel_dropped", "step": step})
    return result


def _audit_listing(
    session: Session, actor: Actor, entity: str, result: Result, detail: dict[str, Any]
) -> None:
    audit.record(
        session, actor, action="list", entity=entity, row_count=len(result.rows), detail=detail
    )


def run(
    session: Session,
    actor: Actor,
    name: str,
    raw_query: str | dict[str, Any],
    settings: Settings | None = None,
    *,
    ids_only: bool = False,
) -> Result:
    """Run report ``name`` with the actor's record scope.

    ``ids_only``: the caller keeps nothing of client rows but their ids and audits what it
    makes of them (a saved segment's members), so they need no right to read clients.
    """
    report = catalog.get(name)
    query = parse_query(report, raw_query)
    company_wide = sorted(needed_resources(report, query) & COMPANY_WIDE)
    for resource in company_wide:
        require(actor, resource, Action.READ)
    lists_clients = report.lists_clients(query) and not ids_only
    if lists_clients:  # aggregates are for every reader of reports; client rows are not
        require(actor, "client", Action.READ)
    scope = engine.record_scope(session, actor)
    if company_wide and not scope.is_everything:
        # spend is company-wide: dividing it by one team's clients would mislead
        raise Forbidden(
            "figures built on ad spend (CPL, CAC, ROMI…) need company-wide scope; "
            "ask for them without spend or as an administrator or marketer"
        )
    result = _run_scoped(session, scope, report, query, settings)
    if lists_clients:
        _audit_listing(session, actor, "client", result,
                       {"view": f"report:{report.name}", "query": result.query})
    return result


@contextmanager
def _scoped_runner(
    session: Session, scope: RecordScope, settings: Settings | None
) -> Iterator[Runner]:
    """A runner over the session's store limited to ``scope``."""
    with engine.analysis_sources(engine.store_url(session), settings) as opened:
        yield Runner(opened.scoped(scope))


def _run_scoped(
    session: Session,
    scope: RecordScope,
    report: catalog.Report,
    query: BaseModel,
    settings: Settings | None,
) -> Result:
    with _scoped_runner(session, scope, settings) as runner:
        return report.run(runner, query)
