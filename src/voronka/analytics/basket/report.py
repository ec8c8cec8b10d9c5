"""The basket report: what is bought together (rules) and what the same client buys next.

Baskets are the revenue orders paid in the period (``facts.order_lines``: paid, neither
cancelled nor returned, not deleted); an item is a product or, at ``level=group``, the
product's group (lines of products without a group are left out at that level). The engine
does the heavy part: it reduces the lines to distinct (order, item) pairs, writes each
order's items as one sorted text key and counts the orders per key, so Python receives one
row per *distinct* basket with its count and mines those (``mining.py``).

Sequential patterns (``section=sequences``) follow Agrawal & Srikant (1995) for sequences of
two elements: a client *supports* ⟨A, B⟩ when they paid for an order holding A and later
(strictly later, at most ``max_gap_days`` after) for an order holding B. Support is the share
of the period's paying clients supporting ⟨A, B⟩; confidence is that count ÷ the clients who
bought A; lift is confidence ÷ the share of clients who bought B. A = B is a repeat purchase.
All counting is done by the engine.

References
----------
Agrawal, R., Srikant, R. (1995). Mining sequential patterns. *ICDE '95*, 3–14.
Srikant, R., Agrawal, R. (1996). Mining sequential patterns: generalizations and performance
improvements. *EDBT '96*, 1–17 (the maximum gap).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import ibis.expr.types as ir
import numpy as np
from pydantic import Field

from voronka.analytics import facts
from voronka.analytics.basket.model import RULE_ORDER, AssociationRules
from voronka.analytics.catalog import Report
from voronka.analytics.query import Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput


class Level(StrEnum):
    PRODUCT = "product"
    GROUP = "group"


class BasketSection(StrEnum):
    RULES = "rules"
    ITEMSETS = "itemsets"
    SEQUENCES = "sequences"


class BasketQuery(Strict):
    period: Period
    filters: Filters = Filters()
    level: Level = Level.PRODUCT
    section: BasketSection = BasketSection.RULES
    min_support: float = Field(0.01, gt=0, le=1, description="Share of baskets (clients).")
    min_confidence: float = Field(0.3, ge=0, le=1)
    min_lift: float = Field(1.0, ge=0, description="Rules (patterns) with lower lift dropped.")
    max_length: int = Field(4, ge=2, le=10, description="Largest itemset.")
    max_consequent: int = Field(1, ge=1, le=9, description="Items on a rule's right side.")
    max_gap_days: int = Field(90, ge=1, le=3660, description="Sequences: longest wait for B.")
    sort_by: str = Field("lift", description=f"One of {', '.join(RULE_ORDER)}.")
    limit: int = Field(500, ge=1, le=100_000)


def _lines(s: Sources, query: BasketQuery) -> ir.Table:
    """(order, client, paid_at, item) of the period's revenue order lines, one per item."""
    lines = facts.Fact("order_lines", facts.order_lines(s), "paid_at").within(
        s, query.period, query.filters)
    item = lines.product_id if query.level is Level.PRODUCT else lines.dim_product_group
    lines = lines.select(order_id=lines.order_id, client_id=lines.client_id,
                         paid_at=lines.paid_at, item=item.cast("int64"))
    return lines.filter(lines.item.notnull()).distinct()


def distinct_baskets(s: Sources, query: BasketQuery) -> ir.Table:
    """One row per distinct basket: ``items`` (sorted item ids joined by commas), ``orders``."""
    lines = _lines(s, query)
    per_order = lines.group_by("order_id").aggregate(
        items=lines.item.cast("string").collect().sort().join(","))
    return per_order.group_by("items").aggregate(orders=per_order.count().cast("int64"))


def sequence_counts(s: Sources, query: BasketQuery) -> tuple[ir.Table, ir.Table]:
    """Clients per item (``item``, ``clients``) and per ordered pair (``first``, ``then``)."""
    lines = _lines(s, query)
    bought = lines.select("client_id", "item", "paid_at").distinct()
    per_item = bought.select("client_id", "item").distinct()
    item_clients = per_item.group_by("item").aggregate(clients=per_item.count().cast("int64"))
    left = bought.select(a_client=bought.client_id, first=bought.item, a_at=bought.paid_at)
    right = bought.select(b_client=bought.client_id, then=bought.item, b_at=bought.paid_at)
    gap = right.b_at.epoch_seconds() - left.a_at.epoch_seconds()
    pairs = left.join(right, [left.a_client == right.b_client, right.b_at > left.a_at,
                              gap <= query.max_gap_days * 86400])
    supporters = pairs.select(client_id=pairs.a_client, first=pairs.first,
                              then=pairs.then).distinct()
    pair_clients = supporters.group_by("first", "then").aggregate(
        clients=supporters.count().cast("int64"))
    return item_clients, pair_clients


def _labels(runner: Runner, level: Level, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    table = runner.sources["product" if level is Level.PRODUCT else "product_group"]
    t = table.filter(table.id.isin(sorted(ids)))
    return {r["id"]: r["name"] for r in runner.rows(t.select("id", "name"))}


def _mine(runner: Runner, query: BasketQuery) -> tuple[AssociationRules, int]:
    baskets = runner.rows(distinct_baskets(runner.sources, query))
    keys = [str(b["items"]).split(",") for b in baskets]
    lengths = np.array([len(k) for k in keys], dtype=np.int64)
    basket = np.repeat(np.arange(len(keys)), lengths)
    items = np.array([int(i) for k in keys for i in k], dtype=np.int64)
    weights = np.repeat(np.array([b["orders"] for b in baskets], dtype=np.int64), lengths)
    model = AssociationRules(min_support=query.min_support, min_confidence=query.min_confidence,
                             min_lift=query.min_lift, max_length=query.max_length,
                             max_consequent=query.max_consequent)
    return model.fit(basket, items, weights), len(baskets)


def _named(ids: list[int], names: dict[int, str]) -> list[str]:
    return [names.get(i, f"#{i}") for i in ids]


def rules_result(runner: Runner, query: BasketQuery) -> tuple[list[dict[str, Any]],
                                                                dict[str, int]]:
    model, distinct = _mine(runner, query)
    counts = {"orders": model.n_baskets_, "distinct_baskets": distinct,
              "min_count": model.min_count(model.n_baskets_)}
    if query.section is BasketSection.ITEMSETS:
        rows = model.itemset_rows()[: query.limit]
        names = _labels(runner, query.level, {i for r in rows for i in r["items"]})
        return [{"items": _named(r["items"], names), "item_ids": r["items"], **{
            k: r[k] for k in ("length", "count", "support")}} for r in rows], counts
    rows = model.rule_rows(sort_by=query.sort_by, limit=query.limit)
    names = _labels(runner, query.level,
                    {i for r in rows for i in r["antecedent"] + r["consequent"]})
    return [{"antecedent": _named(r["antecedent"], names),
             "consequent": _named(r["consequent"], names),
             "antecedent_ids": r["antecedent"], "consequent_ids": r["consequent"],
             **{k: v for k, v in r.items() if k not in ("antecedent", "consequent")}}
            for r in rows], counts


def sequences_result(runner: Runner, query: BasketQuery) -> tuple[list[dict[str, Any]],
                                                                    dict[str, int]]:
    s = runner.sources
    lines = _lines(s, query)
    clients = int(runner.scalar(lines.client_id.nunique()) or 0)
    items, pairs = sequence_counts(s, query)
    min_count = max(1, int(np.ceil(query.min_support * clients - 1e-9)))
    by_item = {r["item"]: r["clients"] for r in runner.rows(items)}
    found = runner.rows(pairs.filter(pairs.clients >= min_count))
    rows = []
    for r in found:
        confidence = r["clients"] / by_item[r["first"]]
        lift = confidence / (by_item[r["then"]] / clients)
        if confidence >= query.min_confidence - 1e-12 and lift >= query.min_lift - 1e-12:
            rows.append({"first_id": r["first"], "then_id": r["then"], "clients": r["clients"],
                         "support": r["clients"] / clients, "confidence": confidence,
                         "lift": lift})
    key = query.sort_by if query.sort_by in ("lift", "confidence", "support") else "lift"
    rows.sort(key=lambda r: (-r[key], -r["confidence"], -r["support"], r["first_id"],
                             r["then_id"]))
    rows = rows[: query.limit]
    names = _labels(runner, query.level, {r[k] for r in rows for k in ("first_id", "then_id")})
    rows = [{"first": names.get(r["first_id"], f"#{r['first_id']}"),
             "then": names.get(r["then_id"], f"#{r['then_id']}"), **r} for r in rows]
    return rows, {"clients": clients, "min_count": min_count}


FORMULA = {
    "support": "rules/itemsets: orders holding every item ÷ orders; sequences: clients "
               "supporting ⟨first, then⟩ ÷ paying clients",
    "confidence": "support(antecedent ∪ consequent) ÷ support(antecedent); sequences: clients "
                  "with first then later then ÷ clients with first",
    "lift": "confidence ÷ support(consequent)",
    "leverage": "support(rule) − support(antecedent) × support(consequent)",
    "conviction": "(1 − support(consequent)) ÷ (1 − confidence); null when confidence = 1 (∞)",
    "count": "orders holding every item of the rule (itemset)",
    "clients": "clients who paid for first and, strictly later and within max_gap_days, then",
}


def run(runner: Runner, query: BasketQuery) -> Result:
    """Mine rules, itemsets or sequential patterns over the period's baskets."""
    if query.sort_by not in RULE_ORDER:
        raise InvalidInput(f"sort_by must be one of {', '.join(RULE_ORDER)}",
                           [ErrorDetail("unknown order", field="sort_by",
                                        value=query.sort_by[:64])])
    if query.section is BasketSection.SEQUENCES:
        rows, counts = sequences_result(runner, query)
    else:
        rows, counts = rules_result(runner, query)
    return Result(report="basket", engine=runner.engine, columns=list(rows[0]) if rows else [],
                  rows=rows, formula=FORMULA, sql=runner.sql, seconds=runner.seconds,
                  row_counts=counts, query=query.model_dump(mode="json"))


REPORT = Report(
    name="basket",
    title_en="Baskets: bought together and bought next",
    title_ru="Корзины: покупают вместе и покупают следом",
    query=BasketQuery,
    run=run,  # type: ignore[arg-type]
    resources=("order",),
)
