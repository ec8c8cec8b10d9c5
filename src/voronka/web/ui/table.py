"""Tables shown on pages, and their CSV/XLSX export (the same rows the page shows).

A page builds its tables once; ``?export=csv&table=<name>`` (or ``xlsx``) returns that table's
rows as a file instead of the page. Cells go through the transfer module's writers, which
neutralise formula-like text (``=``, ``+``, ``@``…).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from voronka.config import get_settings
from voronka.errors import ErrorDetail, NotFound
from voronka.transfer.writing import csv_chunks, write_xlsx
from voronka.web.ui import i18n


@dataclass(frozen=True)
class Column:
    """One column: the row key, its label (English message) and how to show values."""

    key: str
    label: str
    kind: str = "text"  # text | number | money | percent | date | month | link
    link: str | None = None  # for kind "link": a format string over the row, e.g. "/ui/clients/{id}"
    digits: int = 0


@dataclass
class Table:
    name: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    drill: dict[str, str] = field(default_factory=dict)  # column key → row-format drill URL

    def link(self, column: Column, row: dict[str, Any]) -> str | None:
        template = column.link if column.kind == "link" else self.drill.get(column.key)
        if not template:
            return None
        try:
            return template.format(**row)
        except (KeyError, ValueError):
            return None


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(round(value, 4)))
    return value


def maybe_export(request: Request, tables: Sequence[Table], language: str) -> Response | None:
    """The requested table as a file when the URL asks for an export, else ``None``."""
    kind = request.query_params.get("export")
    if kind is None:
        return None
    name = request.query_params.get("table", "")
    table = next((t for t in tables if t.name == name), None)
    if table is None or kind not in ("csv", "xlsx"):
        raise NotFound("no such table to export", [ErrorDetail("unknown", field="table")])
    header = [i18n.translate(language, c.label) for c in table.columns]
    rows = [[_cell(row.get(c.key)) for c in table.columns] for row in table.rows]
    zone = ZoneInfo(get_settings().timezone)
    filename = f"voronka-{table.name}.{kind}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if kind == "csv":
        return StreamingResponse(
            csv_chunks(header, rows, zone), media_type="text/csv; charset=utf-8",
            headers=disposition,
        )
    buffer = io.BytesIO()
    write_xlsx(header, rows, buffer, zone, sheet_title=table.name[:31])
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=disposition,
    )
