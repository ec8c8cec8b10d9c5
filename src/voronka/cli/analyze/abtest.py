"""``voronka analyze abtest FILE``: an A/B/n test from a file with one row per unit."""

from __future__ import annotations

from pathlib import Path

import typer

from voronka.analytics.experiment.frame import analyze_frame
from voronka.cli.analyze.base import app, load, print_result, user_errors
from voronka.cli.output import OutputFormat


@app.command("abtest")
@user_errors
def abtest(
    file: Path = typer.Argument(..., help="CSV, Parquet or XLSX file, one row per unit."),
    variant: str = typer.Option(..., "--variant", help="Column with the unit's variant."),
    converted: str = typer.Option(..., "--converted",
                                  help="Column saying whether the unit converted (1/0)."),
    value: str | None = typer.Option(None, "--value", help="Column with the unit's revenue."),
    day: str | None = typer.Option(None, "--day",
                                   help="Column with the unit's day: one look per day."),
    control: str | None = typer.Option(None, "--control",
                                       help="The control variant (default: the first seen)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level (family-wise)."),
    power: float = typer.Option(0.8, "--power", help="Power the sample-size plan aims at."),
    mde: float = typer.Option(0.1, "--mde", help="Minimum lift of interest (0.1 = 10 %)."),
    primary: str = typer.Option("conversion", "--primary",
                                help="conversion, value_per_unit or average_check."),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte Carlo draws."),
    burn_in: int = typer.Option(50, "--burn-in", min=1,
                                help="Units per variant before the peeking guard looks."),
    separator: str = typer.Option(",", "--separator", help="CSV field separator."),
    fmt: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", help="table, json or csv."),
) -> None:
    """Compare variants on conversion (and value): tests, Bayes, sample size, verdict."""
    columns = [c for c in (variant, converted, value, day) if c]
    frame = load(file, columns, separator=separator)
    result = analyze_frame(frame, variant=variant, converted=converted, value=value, day=day,
                           control=control, alpha=alpha, power=power, mde=mde,
                           primary=primary, seed=seed, burn_in=burn_in)
    print_result(result, fmt, table_key="comparisons")
