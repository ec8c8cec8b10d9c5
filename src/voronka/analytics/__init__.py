"""Analytics: reports as ibis expressions, run by one runner on DuckDB, PostgreSQL or Spark.

For analysts (notebooks)::

    from voronka.analytics import run_report
    result = run_report("metrics", {"period": {"start": "2026-03-01", "end": "2026-03-31"},
                                    "metrics": ["leads", "cpl"], "breakdown": "channel"})
    frame = result.to_pandas()   # or result.rows
"""

from __future__ import annotations

from typing import Any


def run_report(name: str, query: dict[str, Any], *, database_url: str | None = None) -> Any:
    """Run report ``name`` on the configured engine with full (operator) scope."""
    from voronka.access.actor import Actor
    from voronka.analytics import service
    from voronka.db.session import engine_for, get_engine, unit_of_work

    engine = engine_for(database_url) if database_url else get_engine()
    with unit_of_work(engine, write=False) as session:
        return service.run(session, Actor.system(), name, query)


__all__ = ["run_report"]
