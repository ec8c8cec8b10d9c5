"""The CDNOW sample (2,357 customers, Jan 1997 – Jun 1998) as shipped in the lifetimes package.

Only the data files are read; lifetimes itself is never imported (it is a test-extra
dependency for its data, and the benchmark's peer).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest


def data_file(name: str) -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("the test extra is not installed: lifetimes ships the CDNOW data")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / name


def transactions() -> pd.DataFrame:
    """Columns customer, date (YYYYMMDD), units, amount — as text, like a CSV export."""
    return pd.read_csv(data_file("CDNOW_sample.txt"), sep=r"\s+", header=None,
                       names=["master_id", "customer", "date", "units", "amount"], dtype=str)


def summary() -> pd.DataFrame:
    """Fader & Hardie's calibration summary (weeks 1–39): ID, x, t_x, T, zbar."""
    return pd.read_csv(data_file("cdnow_customers_summary_with_transactions.csv"))
