"""Names of the entities a breakdown groups by (channel, campaign, manager…)."""

from __future__ import annotations

import ibis.expr.types as ir

from voronka.analytics.query import Breakdown
from voronka.analytics.runner import Runner

_LABEL_SOURCE = {
    Breakdown.CHANNEL: ("channel", "name"),
    Breakdown.CAMPAIGN: ("campaign", "name"),
    Breakdown.MANAGER: ("user_account", "name"),
    Breakdown.PIPELINE: ("pipeline", "name"),
    Breakdown.PRODUCT_GROUP: ("product_group", "name"),
}


def labels(runner: Runner, breakdown: Breakdown, keys: set[int]) -> dict[int, str]:
    """``{id: name}`` for the keys that appear in a report."""
    if not keys:
        return {}
    table_name, column = _LABEL_SOURCE[breakdown]
    t: ir.Table = runner.sources[table_name]
    rows = runner.rows(t.filter(t.id.isin(sorted(keys))).select(key=t.id, label=t[column]))
    return {int(r["key"]): str(r["label"]) for r in rows}
