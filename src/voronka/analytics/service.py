"""Running a report for an actor: parse the query, check the data it needs, run it."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Action, require
from voronka.analytics import catalog, engine
from voronka.analytics.metrics.registry import METRICS
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
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
            raise BadRequest(f"q is not valid JSON: {exc.msg}",
                             [ErrorDetail(exc.msg, field="q")]) from exc
    if not isinstance(raw, dict):
        raise BadRequest("q must be a JSON object", [ErrorDetail("not an object", field="q")])
    try:
        return report.query.model_validate(raw)
    except ValidationError as exc:
        details = [ErrorDetail(str(e["msg"]), field=".".join(str(p) for p in e["loc"]))
                   for e in exc.errors()]
        fields = ", ".join(sorted({d.field or "" for d in details}))
        raise InvalidInput(f"invalid report query: {fields}", details) from exc


def needed_resources(report: catalog.Report, query: BaseModel) -> set[str]:
    metrics = getattr(query, "metrics", ()) or ()
    return set(report.resources).union(*(METRICS[m].resources for m in metrics if m in METRICS))


def run(session: Session, actor: Actor, name: str, raw_query: str | dict[str, Any],
        settings: Settings | None = None) -> Result:
    """Run report ``name`` with the actor's record scope."""
    report = catalog.get(name)
    query = parse_query(report, raw_query)
    company_wide = sorted(needed_resources(report, query) & COMPANY_WIDE)
    for resource in company_wide:
        require(actor, resource, Action.READ)
    scope = engine.record_scope(session, actor)
    if company_wide and not scope.is_everything:
        # spend is company-wide: dividing it by one team's clients would mislead
        raise Forbidden("figures built on ad spend (CPL, CAC, ROMI…) need company-wide scope; "
                        "ask for them without spend or as an administrator or marketer")
    runner = Runner(engine.open_sources(engine.store_url(session), settings).scoped(scope))
    try:
        return report.run(runner, query)
    finally:
        if runner.sources.kind.value != "spark":
            runner.sources.backend.disconnect()
