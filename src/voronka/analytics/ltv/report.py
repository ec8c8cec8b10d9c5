"""The ``ltv`` report: BG/NBD (or Pareto/NBD) and Gamma-Gamma fitted on the CRM's paid orders.

The engine builds one row per paying client — the customer summary (``frequency``, recency,
age ``T`` in days, mean repeat value), revenue and margin, RFM segment and acquisition channel
and month — from revenue orders paid up to ``as_of`` (company local days; orders of one client
on one day are one transaction). The models fit on those summaries in Python, and the report
returns one section:

- ``parameters``: fitted parameters, log-likelihoods and counts;
- ``clients``: the top clients by CLV with their predictions;
- ``groups``: clients, P(alive), expected purchases and CLV per RFM segment, acquisition
  channel (the channel of the first revenue order: the deal's, else the client's source) and
  acquisition month, with CAC and the payback month taken from the cohorts report's figures.

Payback month of a cohort: the first month offset at which cumulative margin per client
reaches CAC — observed (as in the cohorts report) if it already did, otherwise projected by
adding the model's expected margin per client month by month.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from pydantic import Field

from voronka import clock
from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.facts import midnight
from voronka.analytics.labels import labels
from voronka.analytics.ltv.analyst import MONTH_DAYS
from voronka.analytics.ltv.gamma_gamma import GammaGammaModel
from voronka.analytics.ltv.value import (
    PurchaseModelName,
    cumulative_purchases,
    discounted_value,
    purchase_model,
)
from voronka.analytics.query import MAX_PERIOD_DAYS, Breakdown, Period, Strict
from voronka.analytics.reports import cohorts
from voronka.analytics.reports.clients import SEGMENT_BINS, with_rfm, with_segment
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput, VoronkaError


class LtvSection(StrEnum):
    PARAMETERS = "parameters"
    CLIENTS = "clients"
    GROUPS = "groups"


class LtvQuery(Strict):
    as_of: date | None = Field(None, description="Last local day the models learn from "
                                                 "(default: today).")
    model: PurchaseModelName = Field(PurchaseModelName.BGNBD, description="bgnbd or pnbd.")
    horizon_days: int = Field(365, ge=1, le=3650,
                              description="Days ahead for expected purchases.")
    months: int = Field(12, ge=1, le=120, description="Months of CLV.")
    discount_rate: float = Field(0.01, ge=0, lt=1, description="Discount rate a month.")
    section: LtvSection = LtvSection.GROUPS
    limit: int = Field(100, ge=1, le=100_000, description="Most client rows returned.")


# --- the engine's part ------------------------------------------------------------------


def _days_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.IntegerValue:
    return ((later.epoch_seconds() - earlier.epoch_seconds()) / 86400).round().cast("int64")


def client_summary(s: Sources, as_of: date) -> ir.Table:
    """One row per client with a revenue order paid by the end of ``as_of`` (local).

    Columns: ``client_id, frequency, recency_days, age_days, repeat_minor, revenue_minor,
    margin_minor, first_day, channel_key, segment``.
    """
    orders = facts.orders(s)
    day = s.local(orders.paid_at).truncate("D")
    orders = orders.mutate(day=day).filter(day < midnight(as_of + timedelta(days=1)))
    daily = orders.group_by("client_id", "day").aggregate(
        amount_minor=orders.total_minor.sum().cast("int64"),
        margin_minor=(orders.total_minor - orders.cost_total_minor).sum().cast("int64"),
    )
    daily = daily.mutate(first_day=daily.day.min().over(group_by=daily.client_id))
    summary = daily.group_by("client_id").aggregate(
        days=daily.count().cast("int64"),
        first_day=daily.first_day.min(),
        last_day=daily.day.max(),
        revenue_minor=daily.amount_minor.sum().cast("int64"),
        margin_minor=daily.margin_minor.sum().cast("int64"),
        first_minor=daily.amount_minor.sum(where=daily.day == daily.first_day).cast("int64"),
    )
    end = midnight(as_of)
    summary = summary.select(
        "client_id", "revenue_minor", "margin_minor", "first_day",
        frequency=summary.days - 1,
        recency_days=_days_between(summary.last_day, summary.first_day),
        age_days=_days_between(end, summary.first_day),
        repeat_minor=summary.revenue_minor - summary.first_minor,
    )
    return _with_channel_and_segment(s, summary, as_of)


def _with_channel_and_segment(s: Sources, summary: ir.Table, as_of: date) -> ir.Table:
    """Add the first revenue order's channel and the client's RFM segment up to ``as_of``."""
    orders = facts.orders(s)
    ranked = orders.mutate(
        first_rank=ibis.row_number().over(group_by=orders.client_id,
                                          order_by=[orders.paid_at, orders.id]))
    first = ranked.filter(ranked.first_rank == 0)
    channels = first.select(channel_client=first.client_id,
                            channel_key=first.dim_channel.cast("int64"))
    # the clients report's RFM over the whole history: its paying clients are exactly these
    # (revenue orders up to as_of), so their orders are aggregated here without its deals
    paid = orders.filter(s.local(orders.paid_at) < midnight(as_of + timedelta(days=1)))
    paying = paid.group_by("client_id").aggregate(
        orders=paid.count().cast("int64"),
        revenue_minor=paid.total_minor.sum().cast("int64"),
        last_paid_at=paid.paid_at.max().cast("timestamp"),
    )
    whole = Period(start=as_of - timedelta(days=MAX_PERIOD_DAYS), end=as_of)
    rfm = with_segment(with_rfm(s, paying, whole, SEGMENT_BINS))
    segments = rfm.select(segment_client=rfm.client_id, segment=rfm.segment)
    t = summary.left_join(channels, summary.client_id == channels.channel_client)
    t = t.left_join(segments, t.client_id == segments.segment_client)
    return t.drop("channel_client", "segment_client")


# --- the models' part -------------------------------------------------------------------


def _fit(frame: pd.DataFrame, query: LtvQuery) -> tuple[Any, GammaGammaModel | None]:
    if frame.empty or not (frame["age_days"] > 0).any():
        raise InvalidInput("no paid orders before the as_of day: nothing to fit",
                           [ErrorDetail("no paying clients", field="as_of")])
    purchases = purchase_model(query.model).fit(frame["frequency"], frame["recency_days"],
                                                frame["age_days"])
    try:
        spend = GammaGammaModel().fit(frame["frequency"], frame["monetary"])
    except VoronkaError:
        spend = None
    return purchases, spend


def predictions(frame: pd.DataFrame, purchases: Any, spend: GammaGammaModel | None,
                query: LtvQuery) -> pd.DataFrame:
    """Per client: P(alive), expected purchases, expected order value, CLV, monthly margin."""
    x, t_x, age = frame["frequency"], frame["recency_days"], frame["age_days"]
    out = frame.copy()
    out["probability_alive"] = purchases.probability_alive(x, t_x, age)
    out["expected_purchases"] = purchases.expected_purchases(query.horizon_days, x, t_x, age)
    cumulative = cumulative_purchases(purchases, query.months, MONTH_DAYS, x, t_x, age)
    mean_spend = spend.expected_spend(x, frame["monetary"]) if spend else \
        np.where(x > 0, frame["monetary"], frame["revenue"])  # no spend model: own average
    share = _margin_share(frame)
    out["expected_order_value"] = mean_spend
    out["clv"] = discounted_value(cumulative, mean_spend, discount_rate=query.discount_rate)
    out["clv_margin"] = out["clv"] * share
    monthly = np.diff(cumulative, axis=1, prepend=0.0) * np.asarray(mean_spend)[:, None] * share
    out["monthly_margin"] = list(monthly)
    return out


def _margin_share(frame: pd.DataFrame) -> float:
    revenue = float(frame["revenue"].sum())
    return float(frame["margin"].sum()) / revenue if revenue > 0 else 0.0


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[
        "client_id", "revenue_minor", "margin_minor", "first_day", "frequency", "recency_days",
        "age_days", "repeat_minor", "channel_key", "segment"])
    frame["channel_key"] = pd.to_numeric(frame["channel_key"], errors="coerce")  # None → NaN
    frame["revenue"] = frame["revenue_minor"].astype(float) / 100
    frame["margin"] = frame["margin_minor"].astype(float) / 100
    repeat = frame["repeat_minor"].astype(float) / 100
    frame["monetary"] = np.where(frame["frequency"] > 0,
                                 repeat / frame["frequency"].clip(lower=1), 0.0)
    frame["cohort"] = [cohorts.month_number(pd.Timestamp(d).date()) for d in frame["first_day"]]
    return frame.sort_values("client_id").reset_index(drop=True)


# --- sections ---------------------------------------------------------------------------


def _parameter_rows(purchases: Any, spend: GammaGammaModel | None,
                    frame: pd.DataFrame, query: LtvQuery) -> list[dict[str, Any]]:
    def fitted(name: str, model: Any) -> list[dict[str, Any]]:
        return [{"model": name, "parameter": k, "value": v,
                 "standard_error": _number(model.standard_errors_[k])}
                for k, v in model.params_.items()]

    def figure(name: str, parameter: str, value: float) -> dict[str, Any]:
        return {"model": name, "parameter": parameter, "value": value, "standard_error": None}

    rows = fitted(query.model.value, purchases)
    rows.append(figure(query.model.value, "log_likelihood", purchases.log_likelihood_))
    if spend is not None:
        rows += fitted("gamma_gamma", spend)
        rows += [figure("gamma_gamma", "log_likelihood", spend.log_likelihood_),
                 figure("gamma_gamma", "mean_order_value", spend.mean_spend_)]
    rows += [figure("data", "clients", float(len(frame))),
             figure("data", "repeat_clients", float((frame["frequency"] > 0).sum())),
             figure("data", "margin_share", _margin_share(frame))]
    return rows


CLIENT_COLUMNS = ("client_id", "client_name", "segment", "channel", "first_day", "frequency",
                  "recency_days", "age_days", "revenue", "probability_alive",
                  "expected_purchases", "expected_order_value", "clv", "clv_margin")


def _client_rows(runner: Runner, predicted: pd.DataFrame, limit: int,
                 names: dict[int, str]) -> list[dict[str, Any]]:
    top = predicted.sort_values(["clv", "client_id"], ascending=[False, True]).head(limit)
    client = runner.sources["client"]
    ids = [int(i) for i in top["client_id"]]
    found = runner.rows(client.filter(client.id.isin(ids)).select(key=client.id,
                                                                   name=client.name))
    client_names = {int(r["key"]): r["name"] for r in found}
    rows = []
    for r in top.to_dict("records"):
        rows.append({
            "client_id": int(r["client_id"]), "client_name": client_names.get(int(r["client_id"])),
            "segment": r["segment"], "channel": _channel(r["channel_key"], names),
            "first_day": pd.Timestamp(r["first_day"]).date(),
            **{c: _number(r[c]) for c in CLIENT_COLUMNS[5:]},
        })
    return rows


def _channel(key: Any, names: dict[int, str]) -> str:
    return "—" if key is None or pd.isna(key) else names.get(int(key), "—")


def _number(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and np.isnan(value) else value


def _group_row(group: str, name: str, part: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    n = len(part)
    return {
        "group": group, "name": name, "clients": n,
        "probability_alive_mean": float(part["probability_alive"].mean()) if n else None,
        "expected_purchases": float(part["expected_purchases"].sum()),
        "clv_total": float(part["clv"].sum()),
        "clv_mean": float(part["clv"].mean()) if n else None,
        "clv_margin_mean": float(part["clv_margin"].mean()) if n else None,
        "cac": None, "payback_month": None, **extra,
    }


def _group_rows(predicted: pd.DataFrame, parts: list[dict[str, Any]], as_of: date,
                names: dict[int, str]) -> list[dict[str, Any]]:
    found = cohorts.Aggregates.of(parts)
    rows = [_group_row("all", "all", predicted)]
    segments = sorted(predicted["segment"].dropna().unique())
    rows += [_group_row("rfm", s, predicted[predicted["segment"] == s]) for s in segments]
    for key, part in predicted.groupby(predicted["channel_key"].fillna(-1), sort=True):
        channel = None if key == -1 else int(key)
        spend = sum(v for (c, k), v in found.spend_minor.items() if k == channel)
        new = sum(v for (c, k), v in found.new_paying.items() if k == channel)
        cac = spend / 100 / new if new and channel is not None else None
        rows.append(_group_row("channel", _channel(channel, names), part, cac=cac))
    for cohort, part in predicted.groupby("cohort", sort=True):
        rows.append(_cohort_row(int(cohort), part, found, as_of))
    return rows


def _cohort_row(cohort: int, part: pd.DataFrame, found: cohorts.Aggregates,
                as_of: date) -> dict[str, Any]:
    keys = [k for k in found.sizes if k[0] == cohort]
    spend = sum(found.spend_minor[k] for k in keys)
    new = sum(found.new_paying[k] for k in keys)
    clients = sum(found.sizes[k] for k in keys)
    last = cohorts.month_number(as_of) - cohort
    margins = [sum(int(found.cells.get((*k, o), {}).get("margin_minor") or 0) for k in keys)
               for o in range(last + 1)]
    observed = list(np.cumsum(margins)) if margins else [0]
    payback = cohorts.payback_offset([int(m) for m in observed], clients, spend, new)
    if payback is None and new and clients:
        projected = observed[-1] / 100 / clients + np.cumsum(np.mean(
            np.vstack(part["monthly_margin"].to_list()), axis=0))
        reached = np.flatnonzero(projected * new >= spend / 100)
        payback = last + 1 + int(reached[0]) if len(reached) else None
    return _group_row("cohort", cohorts.month_start(cohort).isoformat(), part,
                      cac=spend / 100 / new if new else None, payback_month=payback)


def _cohort_parts(runner: Runner, as_of: date) -> list[dict[str, Any]]:
    """The cohorts report's aggregates (sizes, margin by offset, spend, new) by channel."""
    end = as_of.replace(day=1)
    start = cohorts.month_start(cohorts.month_number(end) - cohorts.MAX_COHORT_MONTHS + 1)
    query = cohorts.CohortQuery(start_month=start, end_month=end,
                                months=cohorts.MAX_COHORT_MONTHS,
                                breakdown=Breakdown.CHANNEL, as_of=as_of)
    return runner.rows(cohorts.cohort_expression(runner.sources, query, as_of))


FORMULA = {
    "frequency": "local days with a revenue order, minus the first (repeat transactions)",
    "recency_days": "last − first local day with a revenue order",
    "age_days": "as_of − first local day with a revenue order (T)",
    "probability_alive": "P(alive | frequency, recency, T) under the fitted purchase model",
    "expected_purchases": "E[repeat transactions in the next horizon_days | history]",
    "expected_order_value": "Gamma-Gamma E[order value | frequency, mean repeat value]",
    "clv": "Σ over months k ≤ months of expected purchases in month k × expected order value "
    "÷ (1 + discount_rate)^k (month = 30.44 days)",
    "clv_margin": "clv × margin share (Σ (total − cost) ÷ Σ total of the clients' orders)",
    "cac": "ad spend ÷ new paying clients of the channel or cohort month (cohorts report)",
    "payback_month": "first month offset where cumulative margin per client ≥ CAC: observed, "
    "else projected with the model's expected monthly margin per client",
}


def run(runner: Runner, query: LtvQuery) -> Result:
    """Fit the models on the engine's client summaries and return one section."""
    s = runner.sources
    as_of = query.as_of or (clock.now() + s.utc_offset).date()
    frame = _frame(runner.rows(client_summary(s, as_of)))
    purchases, spend = _fit(frame, query)
    predicted = predictions(frame, purchases, spend, query)
    keys = {int(k) for k in frame["channel_key"].dropna()}
    names = labels(runner, Breakdown.CHANNEL, keys)
    if query.section is LtvSection.PARAMETERS:
        rows = _parameter_rows(purchases, spend, frame, query)
    elif query.section is LtvSection.CLIENTS:
        rows = _client_rows(runner, predicted, query.limit, names)
    else:
        rows = _group_rows(predicted, _cohort_parts(runner, as_of), as_of, names)
    return Result(
        report="ltv", engine=runner.engine, columns=list(rows[0]) if rows else [], rows=rows,
        formula=FORMULA, sql=runner.sql, seconds=runner.seconds,
        row_counts={"paying_clients": len(frame),
                    "repeat_clients": int((frame["frequency"] > 0).sum())},
        drilldown={"client": "/api/v1/clients/{client_id}"},
        query={**query.model_dump(mode="json"), "as_of": as_of.isoformat()},
    )


REPORT = Report(
    name="ltv",
    title_en="Lifetime value: BG/NBD and Gamma-Gamma",
    title_ru="Пожизненная ценность клиента: BG/NBD и Gamma-Gamma",
    query=LtvQuery,
    run=run,  # type: ignore[arg-type]
    resources=("order", "deal", "ad_spend"),
    lists_clients=lambda query: query.section is LtvSection.CLIENTS,
)
