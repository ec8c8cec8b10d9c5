"""The attribution report: every model side by side on the same CRM conversions.

One row per (model, channel) — or (model, campaign) — with the conversions and revenue the
model credits to it, the period's ad spend and the ROMI that credit implies. The engine
computes the rule-based and Shapley credits and the Markov transition counts
(``attribution.crm``); the Markov chain's removal effects are solved here from those counts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from voronka.analytics.attribution import crm
from voronka.analytics.attribution.compare import MODEL_LABELS, Model
from voronka.analytics.attribution.crm import Basis, Level
from voronka.analytics.attribution.markov import MarkovAttribution, Transitions
from voronka.analytics.catalog import Report
from voronka.analytics.labels import labels
from voronka.analytics.metrics.registry import METRICS, ratio
from voronka.analytics.query import Breakdown, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner

SpendMetric = Literal["ad_spend", "romi"]
RULES = tuple(m for m in Model if m is not Model.MARKOV)


class AttributionQuery(Strict):
    period: Period
    lookback_days: int = Field(30, ge=1, le=366,
                               description="Touches up to this many days before a conversion.")
    models: tuple[Model, ...] = Field(tuple(Model), min_length=1)
    level: Level = Level.CHANNEL
    basis: Basis = Field(Basis.WON_DEALS, description="Conversions: won deals or paid orders.")
    order: int = Field(1, ge=1, le=3, description="Order of the Markov chain.")
    first_share: float = Field(0.4, ge=0, le=1, description="Position-based: first touch.")
    last_share: float = Field(0.4, ge=0, le=1, description="Position-based: last touch.")
    half_life_days: float = Field(7.0, gt=0, le=366, description="Time decay half-life.")
    metrics: tuple[SpendMetric, ...] = Field(
        ("ad_spend", "romi"),
        description="Spend figures to add (need company-wide scope and READ on ad spend).")

    @model_validator(mode="after")
    def _shares(self) -> AttributionQuery:
        if self.first_share + self.last_share > 1:
            raise ValueError("first_share + last_share must be at most 1")
        return self


COLUMNS = ("model", "channel_id", "channel", "campaign_id", "campaign", "conversions",
           "revenue", "spend", "romi", "removal_effect")
Key = tuple[int | None, int | None]


def _key(channel: Any, campaign: Any) -> Key:
    return (None if channel is None else int(channel), None if campaign is None else int(campaign))


def _token_key(token: str) -> Key:
    """``"3"`` or ``"3:7"`` → (channel 3, campaign 7); 0 means none."""
    parts = [int(p) or None for p in token.split(":")]
    return (parts[0], parts[1] if len(parts) > 1 else None)


def _rule_rows(runner: Runner, query: AttributionQuery,
               converting: Any) -> dict[str, dict[Key, tuple[float, float]]]:
    found = runner.rows(crm.rule_credits(
        converting, query.level, first=query.first_share, last=query.last_share,
        half_life_days=query.half_life_days))
    credits: dict[str, dict[Key, tuple[float, float]]] = defaultdict(dict)
    for r in found:
        credits[r["model"]][_key(r["key_channel"], r["key_campaign"])] = (
            float(r["conversions"] or 0.0), float(r["value_minor"] or 0.0) / 100)
    return credits


def transitions_from_rows(rows: list[dict[str, Any]]) -> Transitions:
    """The chain's ``Transitions`` from the engine's ``transition_counts`` rows."""
    names = sorted({n for r in rows for n in (r["source"], r["target"])
                    if n is not None and n != "(start)"})
    tokens = sorted({token for n in names for token in n.split(">")})
    code = {token: i for i, token in enumerate(tokens)}
    index = {"(start)": 0, **{n: i + 1 for i, n in enumerate(names)}}
    size = len(index)
    ends = {k: np.zeros(size) for k in ("conversions", "value_minor", "nulls")}
    moves = [r for r in rows if r["target"] is not None]
    for r in rows:
        if r["target"] is None:
            for k in ends:
                ends[k][index[r["source"]]] += float(r[k] or 0.0)
    return Transitions(
        channels=tuple(tokens),
        states=[(), *(tuple(code[t] for t in n.split(">")) for n in names)],
        source=np.asarray([index[r["source"]] for r in moves], dtype=np.int64),
        target=np.asarray([index[r["target"]] for r in moves], dtype=np.int64),
        count=np.asarray([float(r["moves"]) for r in moves]),
        conversions=ends["conversions"], value=ends["value_minor"] / 100, nulls=ends["nulls"],
    )


def _markov(runner: Runner, query: AttributionQuery, converting: Any,
            nulls: Any) -> tuple[dict[Key, tuple[float, float]], dict[Key, float], int]:
    rows = runner.rows(crm.transition_counts(converting, nulls, query.order))
    if not any(r["target"] is None and r["conversions"] for r in rows):
        return {}, {}, 0
    t = transitions_from_rows(rows)
    fitted = MarkovAttribution(query.order).fit_transitions(t)
    credits = {_token_key(token): (float(fitted.conversions_[token]), float(fitted.value_[token]))
               for token in t.channels}
    effects = {_token_key(token): float(fitted.removal_effects_[token]) for token in t.channels}
    return credits, effects, int(t.nulls.sum())


def run(runner: Runner, query: AttributionQuery) -> Result:
    """Credit conversions and revenue per model and key; add spend and ROMI."""
    s = runner.sources
    converting = crm.converting_touches(s, query.period, query.basis, query.level,
                                        query.lookback_days)
    credits: dict[str, dict[Key, tuple[float, float]]] = {}
    if any(m in RULES for m in query.models):
        credits.update(_rule_rows(runner, query, converting))
    effects: dict[Key, float] = {}
    null_journeys = 0
    if Model.MARKOV in query.models:
        nulls = crm.null_touches(s, query.period, query.basis, query.level, query.lookback_days)
        credits[Model.MARKOV.value], effects, null_journeys = _markov(
            runner, query, converting, nulls)
    spend = _spend(runner, query)
    summary = runner.rows(crm.summary(s, query.period, query.basis, converting))[0]
    rows = _rows(runner, query, credits, effects, spend)
    return Result(
        report="attribution",
        engine=runner.engine,
        columns=list(COLUMNS),
        rows=rows,
        formula=_formulas(query),
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts={
            "conversions": int(summary["conversions"] or 0),
            "touched_conversions": int(summary["touched"] or 0),
            "untouched_conversions": int((summary["conversions"] or 0)
                                         - (summary["touched"] or 0)),
            "non_converting_journeys": null_journeys,
        },
        drilldown={"endpoint": "/api/v1/analytics/drilldown",
                   "breakdown": {"channel": "channel", "campaign": "campaign"},
                   "measures": {"spend": ["spend"]}} if "ad_spend" in query.metrics else {},
        query=query.model_dump(mode="json"),
    )


def _spend(runner: Runner, query: AttributionQuery) -> dict[Key, float] | None:
    if not query.metrics:
        return None
    found = runner.rows(crm.spend(runner.sources, query.period, query.level))
    return {_key(r["key_channel"], r["key_campaign"]): float(r["spend_minor"] or 0) / 100
            for r in found}


def _rows(runner: Runner, query: AttributionQuery,
          credits: dict[str, dict[Key, tuple[float, float]]], effects: dict[Key, float],
          spend: dict[Key, float] | None) -> list[dict[str, Any]]:
    keys = {k for per in credits.values() for k in per} | set(spend or {})
    channels = labels(runner, Breakdown.CHANNEL, {c for c, _ in keys if c is not None})
    campaigns = labels(runner, Breakdown.CAMPAIGN, {k for _, k in keys if k is not None})
    out = []
    for model in query.models:
        mine = credits.get(model.value, {})
        for key in sorted(keys, key=lambda k: (-mine.get(k, (0.0, 0.0))[0],
                                               k[0] is None, k[0] or 0, k[1] is None, k[1] or 0)):
            conversions, revenue = mine.get(key, (0.0, 0.0))
            cost = None if spend is None else spend.get(key, 0.0)
            out.append({
                "model": model.value,
                "channel_id": key[0],
                "channel": channels.get(key[0], "—") if key[0] is not None else "no channel",
                "campaign_id": key[1],
                "campaign": (campaigns.get(key[1], "—") if key[1] is not None else "no campaign")
                if query.level is Level.CAMPAIGN else None,
                "conversions": round(conversions, 9),
                "revenue": round(revenue, 6),
                "spend": cost if "ad_spend" in query.metrics else None,
                "romi": ratio(revenue - cost, cost, 100.0)
                if cost is not None and "romi" in query.metrics else None,
                # a key in no journey changes nothing when removed
                "removal_effect": effects.get(key, 0.0) if model is Model.MARKOV else None,
            })
    return out


def _formulas(query: AttributionQuery) -> dict[str, str]:
    conversion = ("won deals closed in the period, worth the deal amount"
                  if query.basis is Basis.WON_DEALS
                  else "revenue orders paid in the period, worth the order total")
    rules = {
        Model.FIRST_TOUCH: "all to the journey's first touch",
        Model.LAST_TOUCH: "all to the last touch",
        Model.LAST_NON_DIRECT: "all to the last touch not on a direct channel (else the last)",
        Model.LINEAR: "1/n to each of the n touches",
        Model.POSITION_BASED: f"{query.first_share:g} first, {query.last_share:g} last, the rest "
        "shared by the middle touches (one touch: 1; two: first:last scaled to 1)",
        Model.TIME_DECAY: f"2^(−days before the conversion / {query.half_life_days:g}), "
        "scaled to 1 per journey",
        Model.MARKOV: f"order-{query.order} absorbing Markov chain over converting and "
        "non-converting journeys; conversions × removal effect ÷ Σ removal effects "
        "(Anderl et al. 2016)",
        Model.SHAPLEY: "exact Shapley value of the game whose worth is what journeys touching "
        "only the coalition's channels produced (Shapley 1953; Zhao et al. 2018)",
    }
    out = {
        "conversion": conversion,
        "journey": f"the client's touches (touchpoints and inbound calls to tracking numbers) "
        f"from {query.lookback_days} days before the conversion up to it, after the previous "
        "conversion",
        "revenue": "the conversions' value credited by the model",
        "spend": METRICS["ad_spend"].formula + " over the period",
        "romi": "(credited revenue − spend) ÷ spend × 100%",
    }
    for model in query.models:
        english, russian = MODEL_LABELS[model]
        out[model.value] = f"{english} / {russian}: {rules[model]}"
    return out


REPORT = Report(
    name="attribution",
    title_en="Attribution models",
    title_ru="Модели атрибуции",
    query=AttributionQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal", "order", "touchpoint", "activity"),
)
