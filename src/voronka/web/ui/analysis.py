"""Report filters kept in the URL, and reports run as the viewer (the API's own service).

Results are cached for ``analytics_refresh_seconds`` (the age a snapshot may have anyway)
per store, role, team, user and query, so the overview answers at once on a second visit;
with 0 nothing is cached.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from voronka import clock
from voronka.analytics import catalog
from voronka.analytics import service as analytics_service
from voronka.analytics.query import Breakdown
from voronka.analytics.result import Result
from voronka.config import get_settings
from voronka.errors import ErrorDetail, InvalidInput
from voronka.web.ui.auth import Viewer

CACHE_SIZE = 256
_cache: OrderedDict[tuple[Any, ...], tuple[float, Result]] = OrderedDict()
_lock = threading.Lock()

BREAKDOWNS = [b.value for b in Breakdown]


def _date(raw: str | None, field: str, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(
            f"{field} is not a date (YYYY-MM-DD)", [ErrorDetail("not a date", field=field)]
        ) from exc


def _int(raw: str | None, field: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(f"{field} must be a number", [ErrorDetail("not a number", field=field)])
    return int(raw)


def default_period(today: date) -> tuple[date, date]:
    """The last three whole months before the current one."""
    end = today.replace(day=1) - timedelta(days=1)
    start_month = (end.replace(day=1) - timedelta(days=1)).replace(day=1)
    start = (start_month - timedelta(days=1)).replace(day=1)
    return start, end


@dataclass(frozen=True)
class ReportFilters:
    """Period, breakdown and one-value filters read from the query string."""

    start: date
    end: date
    breakdown: str | None
    channel_id: int | None
    manager_id: int | None
    pipeline_id: int | None

    @classmethod
    def from_request(cls, request: Request) -> ReportFilters:
        params = request.query_params
        default_start, default_end = default_period(clock.now().date())
        breakdown = params.get("breakdown") or None
        if breakdown is not None and breakdown not in BREAKDOWNS:
            raise InvalidInput(
                "unknown breakdown", [ErrorDetail(f"one of {BREAKDOWNS}", field="breakdown")]
            )
        start = _date(params.get("start"), "start", default_start)
        end = _date(params.get("end"), "end", default_end)
        if end < start:
            raise InvalidInput("the period ends before it starts", [ErrorDetail("", field="end")])
        return cls(
            start, end, breakdown,
            _int(params.get("channel_id"), "channel_id"),
            _int(params.get("manager_id"), "manager_id"),
            _int(params.get("pipeline_id"), "pipeline_id"),
        )

    @property
    def period(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @property
    def filters(self) -> dict[str, list[int]]:
        pairs = {
            "channel_ids": self.channel_id,
            "manager_ids": self.manager_id,
            "pipeline_ids": self.pipeline_id,
        }
        return {k: [v] for k, v in pairs.items() if v is not None}

    def query(self, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"period": self.period, "filters": self.filters}
        if self.breakdown and "breakdown" not in extra:
            out["breakdown"] = self.breakdown
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    def drill_url(self, measure: str, key: Any = None, breakdown: str | None = None) -> str:
        """The drill-down page of one figure with these filters."""
        from urllib.parse import urlencode

        params: dict[str, Any] = {"measure": measure, **self.period}
        for name in ("channel_id", "manager_id", "pipeline_id"):
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
        if breakdown and key is not None:
            params["breakdown"], params["key"] = breakdown, key
        return "/ui/drill?" + urlencode(params)


def available(name: str) -> bool:
    """Whether report ``name`` is in the catalogue (models land independently)."""
    return name in catalog.reports()


def run(session: Session, viewer: Viewer, name: str, query: dict[str, Any]) -> Result:
    """Run report ``name`` as the viewer, through the cache when it is enabled.

    Client rows are never served from the cache: each listing of them is audited.
    """
    ttl = get_settings().analytics_refresh_seconds
    if analytics_service.lists_clients(name, query):
        ttl = 0
    actor = viewer.actor
    bind = session.get_bind()
    key = (
        str(bind.url), actor.workspace_id, actor.role, actor.team_id, actor.user_id, name,
        json.dumps(query, sort_keys=True, default=str),
    )
    now = time.monotonic()
    if ttl > 0:
        with _lock:
            hit = _cache.get(key)
            if hit is not None and now - hit[0] < ttl:
                _cache.move_to_end(key)
                return hit[1]
    result = analytics_service.run(session, actor, name, query)
    if ttl > 0:
        with _lock:
            _cache[key] = (now, result)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return result


def forget() -> None:
    """Empty the cache (tests, benchmarks)."""
    with _lock:
        _cache.clear()
