"""Analyst mode: read a plain file (CSV, Parquet or XLSX) into a pandas frame.

Every model runs on such a file from the CLI (``voronka analyze …``) and the Python API,
with the columns named by options. Mistakes end in one sentence that names the file and the
column, never in a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from voronka.errors import ErrorDetail, InvalidInput

READERS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".xlsx": "xlsx"}


def read_table(path: str | Path, columns: Iterable[str], *, separator: str = ",") -> pd.DataFrame:
    """Read ``path`` and check that every name in ``columns`` is one of its columns.

    Only the named columns are returned, in the order asked. CSV values stay text until a
    model parses them, so a bad value can be reported with its row.
    """
    path = Path(path)
    wanted = list(dict.fromkeys(columns))
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise _invalid(path, f"{path.name}: unknown file type {path.suffix!r}; "
                       f"use one of {', '.join(sorted(READERS))}")
    if not path.is_file():
        raise _invalid(path, f"{path}: no such file")
    frame = _read(path, kind, separator)
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        raise _invalid(path, f"{path.name}: no column {missing[0]!r}; the file has "
                       f"{', '.join(map(str, frame.columns))}", field=missing[0])
    return frame[wanted]


def _read(path: Path, kind: str, separator: str) -> pd.DataFrame:
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        if kind == "xlsx":
            return pd.read_excel(path, dtype=str, engine="openpyxl")
        return pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False,
                           engine="python" if len(separator) > 1 else "c")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise _invalid(path, f"{path.name}: cannot read it as {kind}: {exc}") from exc


def _invalid(path: Path, message: str, *, field: str | None = None) -> InvalidInput:
    return InvalidInput(message, [ErrorDetail(message, field=field or "file",
                                                  value=path.name[:64])])
