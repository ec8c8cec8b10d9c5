"""The ``segments`` report: k-means segments of paying clients on their behaviour.

Features (built by the engine, ``features.py``): recency, orders, revenue, average order and
tenure (orders, revenue and average order on a log scale), the acquisition channel (one-hot)
and the share of revenue per product group. Blocks of features are weighted equally (see
``BehaviourClusters``). k is given, or chosen by silhouette in ``k_min … k_max``.

Sections: ``profiles`` (one row per segment: size, revenue share, mean features, readable
names in English and Russian, favourite channel and product group) and ``members`` (client
ids of one segment, or of all, with the segment and raw features — no names or contacts:
saved target lists apply the client policy to those).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from voronka import clock
from voronka.analytics.catalog import Report
from voronka.analytics.labels import labels
from voronka.analytics.query import Breakdown, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.segment.clustering import BehaviourClusters
from voronka.analytics.segment.features import client_features, group_column
from voronka.analytics.segment.naming import segment_names
from voronka.errors import ErrorDetail, InvalidInput

NUMERIC = ("recency_days", "orders", "revenue", "average_order", "tenure_days")
LOG_SCALED = ("orders", "revenue", "average_order")


class FeatureBlock(StrEnum):
    RFM = "rfm"  # recency, orders, revenue, average order
    TENURE = "tenure"
    CHANNEL = "channel"
    CATEGORIES = "categories"


class SegmentSection(StrEnum):
    PROFILES = "profiles"
    MEMBERS = "members"


class SegmentsQuery(Strict):
    as_of: date | None = Field(None, description="Last local day of behaviour (default today).")
    k: int | None = Field(None, ge=2, le=20, description="Number of segments (default: the "
                                                         "best silhouette in k_min…k_max).")
    k_min: int = Field(2, ge=2, le=20)
    k_max: int = Field(8, ge=2, le=20)
    features: tuple[FeatureBlock, ...] = Field(tuple(FeatureBlock), min_length=1,
                                               description="Feature blocks to cluster on.")
    seed: int = Field(0, ge=0, description="Random seed of k-means (results are repeatable).")
    section: SegmentSection = SegmentSection.PROFILES
    segment: int | None = Field(None, ge=0, description="Members of this segment only.")
    limit: int = Field(1000, ge=1, le=100_000, description="Most member rows returned.")

    @model_validator(mode="after")
    def _consistent(self) -> SegmentsQuery:
        if self.k_max < self.k_min:
            raise ValueError("k_max must not be below k_min")
        if self.segment is not None and self.section is not SegmentSection.MEMBERS:
            raise ValueError("segment applies to the members section only")
        return self


# --- features -----------------------------------------------------------------------------


def _group_ids(runner: Runner) -> list[int]:
    groups = runner.sources["product_group"]
    return sorted(int(r["id"]) for r in runner.rows(groups.select("id")))


def _design(raw: pd.DataFrame, query: SegmentsQuery,
            group_ids: list[int]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The numeric design (one column per feature) and its blocks."""
    blocks: dict[str, list[str]] = {}
    design = pd.DataFrame(index=raw.index)
    if FeatureBlock.RFM in query.features:
        for column in ("recency_days", "orders", "revenue", "average_order"):
            design[column] = np.log1p(raw[column]) if column in LOG_SCALED else raw[column]
    if FeatureBlock.TENURE in query.features:
        design["tenure_days"] = raw["tenure_days"]
    if FeatureBlock.CHANNEL in query.features:
        keys = raw["channel_key"].fillna(-1).astype(int)
        columns = [f"channel_{k}" for k in sorted(keys.unique())]
        for key, column in zip(sorted(keys.unique()), columns, strict=True):
            design[column] = (keys == key).astype(float)
        blocks["channel"] = columns
    if FeatureBlock.CATEGORIES in query.features and group_ids:
        total = raw[[group_column(g) for g in group_ids]].sum(axis=1).replace(0, np.nan)
        columns = [group_column(g) for g in group_ids]
        for column in columns:
            design[column] = (raw[column] / total).fillna(0.0)
        blocks["categories"] = columns
    return design, blocks


def _raw(rows: list[dict[str, Any]], group_ids: list[int]) -> pd.DataFrame:
    raw = pd.DataFrame(rows, columns=["client_id", "orders", "revenue_minor", "recency_days",
                                      "tenure_days", "channel_key",
                                      *[group_column(g) for g in group_ids]])
    raw = raw.sort_values("client_id").reset_index(drop=True)
    raw["channel_key"] = pd.to_numeric(raw["channel_key"], errors="coerce")  # None → NaN
    raw["revenue"] = raw["revenue_minor"].astype(float) / 100
    raw["average_order"] = raw["revenue"] / raw["orders"].clip(lower=1)
    for g in group_ids:
        raw[group_column(g)] = raw[group_column(g)].astype(float) / 100
    return raw


# --- rows ---------------------------------------------------------------------------------


def _profiles(raw: pd.DataFrame, model: BehaviourClusters, names: list[tuple[str, str]],
              channel_names: dict[int, str], group_names: dict[int, str],
              group_ids: list[int]) -> list[dict[str, Any]]:
    rows = []
    total_revenue = float(raw["revenue"].sum())
    for segment in range(model.n_clusters_):
        part = raw[model.labels_ == segment]
        row: dict[str, Any] = {
            "segment": segment, "name_en": names[segment][0], "name_ru": names[segment][1],
            "clients": len(part), "client_share_pct": 100.0 * len(part) / len(raw),
            "revenue": float(part["revenue"].sum()),
            "revenue_share_pct": 100.0 * float(part["revenue"].sum()) / total_revenue
            if total_revenue else None,
            **{f"mean_{c}": float(part[c].mean()) for c in NUMERIC},
            "top_channel": _top_channel(part, channel_names),
            "top_product_group": _top_group(part, group_ids, group_names),
            "silhouette": model.silhouette_,
        }
        rows.append(row)
    return rows


def _top_channel(part: pd.DataFrame, names: dict[int, str]) -> str | None:
    keys = part["channel_key"].dropna()
    if keys.empty:
        return None
    counts = keys.astype(int).value_counts()
    best = sorted(counts.index, key=lambda k: (-counts[k], k))[0]
    return names.get(int(best), "—")


def _top_group(part: pd.DataFrame, group_ids: list[int], names: dict[int, str]) -> str | None:
    if not group_ids:
        return None
    sums = {g: float(part[group_column(g)].sum()) for g in group_ids}
    best = max(group_ids, key=lambda g: (sums[g], -g))
    return names.get(best) if sums[best] > 0 else None


def _members(raw: pd.DataFrame, model: BehaviourClusters, names: list[tuple[str, str]],
             query: SegmentsQuery) -> list[dict[str, Any]]:
    chosen = raw.assign(segment=model.labels_)
    if query.segment is not None:
        if query.segment >= model.n_clusters_:
            raise InvalidInput(f"there are {model.n_clusters_} segments (0…"
                               f"{model.n_clusters_ - 1})",
                               [ErrorDetail("no such segment", field="segment",
                                            value=query.segment)])
        chosen = chosen[chosen["segment"] == query.segment]
    chosen = chosen.sort_values(["segment", "revenue", "client_id"],
                                ascending=[True, False, True]).head(query.limit)
    return [{
        "client_id": int(r["client_id"]), "segment": int(r["segment"]),
        "name_en": names[int(r["segment"])][0], "name_ru": names[int(r["segment"])][1],
        "recency_days": int(r["recency_days"]), "orders": int(r["orders"]),
        "revenue": float(r["revenue"]), "average_order": float(r["average_order"]),
        "tenure_days": int(r["tenure_days"]),
    } for r in chosen.to_dict("records")]


FORMULA = {
    "segment": "k-means cluster (0 = largest) of standardised features, blocks weighted "
    "equally; k given or chosen by the highest silhouette",
    "recency_days": "as_of − local day of the last revenue order",
    "orders": "revenue orders paid up to as_of",
    "revenue": "sum of revenue orders' totals",
    "average_order": "revenue ÷ orders",
    "tenure_days": "as_of − local day of the first revenue order",
    "top_channel": "most frequent acquisition channel (first revenue order's channel)",
    "top_product_group": "product group with the largest revenue in the segment",
    "silhouette": "mean silhouette of the chosen k (on a seeded sample of ≤ 4,000 clients)",
    "name_en": "value (revenue) + activity (recency, tenure, orders) + a standout channel "
    "or product group, read from the segment's centre",
}


def fit_segments(runner: Runner, query: SegmentsQuery) -> tuple[
        pd.DataFrame, BehaviourClusters, list[tuple[str, str]], dict[str, Any]]:
    """Features from the engine, the fitted clusters, the names and the labels used."""
    s = runner.sources
    as_of = query.as_of or (clock.now() + s.utc_offset).date()
    group_ids = _group_ids(runner)
    raw = _raw(runner.rows(client_features(s, as_of, group_ids)), group_ids)
    if raw.empty:
        raise InvalidInput("no paying clients before as_of: nothing to segment",
                           [ErrorDetail("no paying clients", field="as_of")])
    design, blocks = _design(raw, query, group_ids)
    low, high = query.k_min, query.k_max
    model = BehaviourClusters(query.k, (low, high), query.seed).fit(design, blocks)
    channel_keys = {int(k) for k in raw["channel_key"].dropna()}
    channel_names = labels(runner, Breakdown.CHANNEL, channel_keys)
    group_names = labels(runner, Breakdown.PRODUCT_GROUP, set(group_ids))
    column_labels = {f"channel_{k}": channel_names.get(k, "—") for k in channel_keys}
    column_labels |= {group_column(g): group_names.get(g, str(g)) for g in group_ids}
    names = segment_names(model.centers_, column_labels)
    extra = {"as_of": as_of, "channel_names": channel_names, "group_names": group_names,
             "group_ids": group_ids}
    return raw, model, names, extra


def run(runner: Runner, query: SegmentsQuery) -> Result:
    """Cluster the paying clients and return the profiles or the members."""
    raw, model, names, extra = fit_segments(runner, query)
    if query.section is SegmentSection.PROFILES:
        rows = _profiles(raw, model, names, extra["channel_names"], extra["group_names"],
                         extra["group_ids"])
    else:
        rows = _members(raw, model, names, query)
    return Result(
        report="segments", engine=runner.engine, columns=list(rows[0]) if rows else [],
        rows=rows, formula=FORMULA, sql=runner.sql, seconds=runner.seconds,
        row_counts={"clients": len(raw), "segments": model.n_clusters_},
        drilldown={"members": "section=members&segment={segment}",
                   "silhouettes": {str(k): v for k, v in model.silhouettes_.items()}},
        query={**query.model_dump(mode="json"), "as_of": extra["as_of"].isoformat(),
               "k": model.n_clusters_},
    )


REPORT = Report(
    name="segments",
    title_en="Segments: clients clustered on behaviour",
    title_ru="Сегменты: кластеры клиентов по поведению",
    query=SegmentsQuery,
    run=run,  # type: ignore[arg-type]
    resources=("order",),
)
