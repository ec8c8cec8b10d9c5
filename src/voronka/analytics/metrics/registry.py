"""Every metric of DESIGN.md §3, declared once: slug, labels, unit, formula, computation.

A metric is a formula over measures (``measures.py``); the measures are aggregated by the
engine, the formula combines the few resulting numbers. A ratio with a zero denominator is
``None`` (shown as "—"), never 0 or infinity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from voronka.errors import ErrorDetail, InvalidInput

Values = Mapping[str, float | None]


class Unit(StrEnum):
    COUNT = "count"
    MONEY = "money"
    PERCENT = "percent"
    SECONDS = "seconds"
    DAYS = "days"
    SCORE = "score"


@dataclass(frozen=True)
class Metric:
    slug: str
    label_en: str
    label_ru: str
    unit: Unit
    formula: str
    measures: tuple[str, ...]
    compute: Callable[[Values, int], float | None]
    resources: tuple[str, ...] = ("deal",)
    higher_is_better: bool = True

    def value(self, values: Values, days: int) -> float | None:
        return self.compute(values, days)


def ratio(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    """``numerator / denominator × scale``, or ``None`` when undefined."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator * scale


def _get(name: str) -> Callable[[Values, int], float | None]:
    return lambda v, _days: v.get(name)


def _ratio(numerator: str, denominator: str, scale: float = 1.0):  # type: ignore[no-untyped-def]
    return lambda v, _days: ratio(v.get(numerator), v.get(denominator), scale)


def _return_on(gain: str):  # type: ignore[no-untyped-def]
    def compute(v: Values, _days: int) -> float | None:
        spend, gained = v.get("spend"), v.get(gain)
        return None if gained is None else ratio(gained - (spend or 0.0), spend, 100.0)
    return compute


def _win_rate(v: Values, _days: int) -> float | None:
    won, lost = v.get("won") or 0.0, v.get("lost") or 0.0
    return ratio(won, won + lost, 100.0)


def _nps(v: Values, _days: int) -> float | None:
    promoters, detractors = v.get("nps_promoters") or 0.0, v.get("nps_detractors") or 0.0
    return ratio(promoters - detractors, v.get("nps_count"), 100.0)


SALES, MONEY_RES, SPEND, CALLS, FEEDBACK = (
    ("deal",), ("order",), ("ad_spend",), ("activity",), ("feedback",))

METRICS: dict[str, Metric] = {m.slug: m for m in (
    Metric("leads", "Leads", "Лиды", Unit.COUNT, "new deals created in the period",
           ("leads",), _get("leads")),
    Metric("won_deals", "Won deals", "Выигранные сделки", Unit.COUNT,
           "deals moved to a won stage in the period", ("won",), _get("won")),
    Metric("revenue", "Revenue", "Выручка", Unit.MONEY,
           "sum of paid (not cancelled or returned) orders", ("revenue",), _get("revenue"),
           MONEY_RES),
    Metric("paid_orders", "Paid orders", "Оплаченные заказы", Unit.COUNT,
           "orders paid in the period", ("paid_orders",), _get("paid_orders"), MONEY_RES),
    Metric("ad_spend", "Ad spend", "Расход на рекламу", Unit.MONEY, "sum of daily ad spend",
           ("spend",), _get("spend"), SPEND, higher_is_better=False),
    Metric("cpl", "Cost per lead (CPL)", "Стоимость лида (CPL)", Unit.MONEY,
           "ad spend ÷ leads", ("spend", "leads"), _ratio("spend", "leads"),
           SPEND + SALES, higher_is_better=False),
    Metric("visit_conversion", "Conversion of visitors", "Конверсия посетителей", Unit.PERCENT,
           "clients who bought ÷ visitors × 100%", ("buyers", "visitors"),
           _ratio("buyers", "visitors", 100.0), MONEY_RES + ("touchpoint",)),
    Metric("lead_to_sale", "Lead → sale conversion", "Конверсия лида в продажу", Unit.PERCENT,
           "won deals ÷ leads × 100%", ("won", "leads"), _ratio("won", "leads", 100.0)),
    Metric("average_check", "Average check", "Средний чек", Unit.MONEY,
           "revenue ÷ number of paid orders", ("revenue", "paid_orders"),
           _ratio("revenue", "paid_orders"), MONEY_RES),
    Metric("cac", "Customer acquisition cost (CAC)", "Стоимость привлечения клиента (CAC)",
           Unit.MONEY, "ad spend ÷ new paying clients", ("spend", "new_buyers"),
           _ratio("spend", "new_buyers"), SPEND + MONEY_RES, higher_is_better=False),
    Metric("cpo", "Cost per order (CPO)", "Стоимость заказа (CPO)", Unit.MONEY,
           "ad spend ÷ paid orders", ("spend", "paid_orders"), _ratio("spend", "paid_orders"),
           SPEND + MONEY_RES, higher_is_better=False),
    Metric("romi", "ROMI", "ROMI", Unit.PERCENT,
           "(revenue − ad spend) ÷ ad spend × 100%", ("revenue", "spend"),
           _return_on("revenue"), SPEND + MONEY_RES),
    Metric("roi", "ROI", "ROI", Unit.PERCENT,
           "(gross profit − ad spend) ÷ ad spend × 100%", ("gross_profit", "spend"),
           _return_on("gross_profit"), SPEND + MONEY_RES),
    Metric("ad_cost_share", "Ad cost share (ДРР)", "Доля рекламных расходов (ДРР)",
           Unit.PERCENT, "ad spend ÷ revenue × 100%", ("spend", "revenue"),
           _ratio("spend", "revenue", 100.0), SPEND + MONEY_RES, higher_is_better=False),
    Metric("repeat_purchase_rate", "Repeat purchase rate", "Доля повторных покупок",
           Unit.PERCENT, "clients with ≥ 2 paid orders ÷ clients with ≥ 1 paid order × 100%",
           ("repeat_buyers", "buyers"), _ratio("repeat_buyers", "buyers", 100.0), MONEY_RES),
    Metric("average_unit_price", "Average price per unit", "Средняя цена единицы", Unit.MONEY,
           "revenue from lines ÷ units sold", ("line_revenue", "units"),
           _ratio("line_revenue", "units"), MONEY_RES),
    Metric("revenue_per_day", "Revenue per day", "Выручка в день", Unit.MONEY,
           "revenue ÷ days in the period", ("revenue",),
           lambda v, days: ratio(v.get("revenue"), days), MONEY_RES),
    Metric("win_rate", "Win rate", "Доля выигранных", Unit.PERCENT,
           "won ÷ (won + lost) × 100%", ("won", "lost"), _win_rate),
    Metric("lead_response_median", "Lead response time (median)",
           "Время реакции на лид (медиана)", Unit.SECONDS,
           "median of first outbound contact − lead created", ("response_median",),
           _get("response_median"), SALES + CALLS, higher_is_better=False),
    Metric("lead_response_p90", "Lead response time (p90)", "Время реакции на лид (p90)",
           Unit.SECONDS, "90th percentile of first outbound contact − lead created",
           ("response_p90",), _get("response_p90"), SALES + CALLS, higher_is_better=False),
    Metric("cycle_time", "Sales cycle (median)", "Цикл сделки (медиана)", Unit.DAYS,
           "median of won at − lead created, in days", ("cycle_median",),
           _get("cycle_median"), higher_is_better=False),
    Metric("missed_call_rate", "Missed call rate", "Доля пропущенных звонков", Unit.PERCENT,
           "missed inbound calls ÷ inbound calls × 100%", ("missed_calls", "inbound_calls"),
           _ratio("missed_calls", "inbound_calls", 100.0), CALLS, higher_is_better=False),
    Metric("wait_time", "Wait time (median)", "Время ожидания (медиана)", Unit.SECONDS,
           "median wait of answered inbound calls", ("wait_median",), _get("wait_median"),
           CALLS, higher_is_better=False),
    Metric("talk_time", "Talk time (median)", "Время разговора (медиана)", Unit.SECONDS,
           "median talk time of answered calls", ("talk_median",), _get("talk_median"), CALLS),
    Metric("csat", "CSAT", "CSAT", Unit.SCORE, "mean satisfaction score (1–5)",
           ("csat_sum", "csat_count"), _ratio("csat_sum", "csat_count"), FEEDBACK),
    Metric("nps", "NPS", "NPS", Unit.SCORE, "% promoters (9–10) − % detractors (0–6)",
           ("nps_promoters", "nps_detractors", "nps_count"), _nps, FEEDBACK),
)}


def get(slug: str, *, field: str = "metrics") -> Metric:
    """The metric called ``slug`` or ``InvalidInput`` listing the known ones."""
    metric = METRICS.get(slug)
    if metric is None:
        raise InvalidInput(f"unknown metric {slug!r}; known: {', '.join(METRICS)}",
                           [ErrorDetail("unknown metric", field=field, value=slug[:64])])
    return metric
