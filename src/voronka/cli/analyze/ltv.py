"""``voronka analyze ltv FILE``: BG/NBD (or Pareto/NBD) and Gamma-Gamma on a purchases file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from voronka.analytics.ltv.analyst import fit_ltv
from voronka.analytics.ltv.summary import TimeUnit
from voronka.analytics.ltv.value import PurchaseModelName
from voronka.cli.analyze.base import app, load, print_result, user_errors
from voronka.cli.output import OutputFormat


@app.command("ltv")
@user_errors
def ltv(
    file: Path = typer.Argument(..., help="CSV, Parquet or XLSX file, one row per purchase."),
    customer: str = typer.Option(..., "--customer", help="Column with the customer id."),
    date: str = typer.Option(..., "--date", help="Column with the purchase date (or time)."),
    amount: str = typer.Option(..., "--amount", help="Column with the purchase amount."),
    calibration_end: datetime | None = typer.Option(
        None, "--calibration-end", formats=["%Y-%m-%d"],
        help="Last day the models learn from; later purchases are the holdout."),
    time_unit: TimeUnit = typer.Option(TimeUnit.WEEK, "--time-unit", help="day or week."),
    model: PurchaseModelName = typer.Option(
        PurchaseModelName.BGNBD, "--model", help="Purchase model: bgnbd or pnbd."),
    horizon: float | None = typer.Option(
        None, "--horizon", help="Time units ahead for expected purchases (default: a year)."),
    periods: int = typer.Option(12, "--periods", help="Months of CLV."),
    discount_rate: float = typer.Option(0.01, "--discount-rate", help="Discount rate a month."),
    margin: float = typer.Option(1.0, "--margin", help="Share of revenue kept (0–1]."),
    top: int | None = typer.Option(None, "--top", help="Only the top N customers by CLV."),
    separator: str = typer.Option(",", "--separator", help="CSV field separator."),
    fmt: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", help="table, json or csv."),
) -> None:
    """Fit purchase and spend models; print parameters and CLV per customer."""
    frame = load(file, (customer, date, amount), separator=separator)
    result = fit_ltv(
        frame, customer=customer, date=date, amount=amount,
        calibration_end=calibration_end.date() if calibration_end else None,
        time_unit=time_unit, model=model, horizon=horizon, periods=periods,
        discount_rate=discount_rate, margin=margin, top=top,
    )
    print_result(result, fmt, table_key="customers")
