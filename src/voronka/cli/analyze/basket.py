"""``voronka analyze basket FILE``: frequent itemsets and association rules on a plain file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from voronka.analytics.basket.model import RULE_ORDER, AssociationRules
from voronka.cli.analyze.base import app, load, print_result, user_errors
from voronka.cli.output import OutputFormat


@app.command("basket")
@user_errors
def basket(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or XLSX: one row per basket item.")],
    transaction: Annotated[str, typer.Option(help="Column naming the basket (order, receipt).")],
    item: Annotated[str, typer.Option(help="Column naming the item (product, group).")],
    min_support: Annotated[float, typer.Option(help="Share of baskets, e.g. 0.01.")] = 0.01,
    min_confidence: Annotated[float, typer.Option(help="Share, e.g. 0.5.")] = 0.5,
    min_lift: Annotated[float, typer.Option(help="Rules with a lower lift are dropped.")] = 0.0,
    max_length: Annotated[int | None, typer.Option(help="Largest itemset.")] = None,
    max_consequent: Annotated[int, typer.Option(help="Items on a rule's right side.")] = 1,
    sort: Annotated[str, typer.Option(help=f"Rule order: {', '.join(RULE_ORDER)}.")] = "lift",
    limit: Annotated[int | None, typer.Option(help="Print at most this many rules.")] = None,
    separator: Annotated[str, typer.Option(help="CSV field separator.")] = ",",
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Frequent itemsets and strong rules (support, confidence, lift, leverage, conviction)."""
    frame = load(file, [transaction, item], separator=separator)
    frame = frame[(frame[item].astype(str) != "") & (frame[transaction].astype(str) != "")]
    model = AssociationRules(min_support=min_support, min_confidence=min_confidence,
                             min_lift=min_lift, max_length=max_length,
                             max_consequent=max_consequent)
    model.fit(frame[transaction].to_numpy(), frame[item].astype(str).to_numpy())
    rules = model.rule_rows(sort_by=sort, limit=limit)
    result: dict[str, Any] = {
        "baskets": model.n_baskets_,
        "min_count": model.min_count(model.n_baskets_),
        "itemsets": model.itemset_rows(),
        "rules": rules,
    }
    if format is not OutputFormat.JSON:
        result["rules"] = [_flat(r) for r in rules]
    print_result(result, format, table_key="rules")


def _flat(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule for a table or CSV: item lists joined, figures rounded."""
    return {
        "antecedent": ", ".join(map(str, rule["antecedent"])),
        "consequent": ", ".join(map(str, rule["consequent"])),
        **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in rule.items()
           if k not in ("antecedent", "consequent")},
    }
