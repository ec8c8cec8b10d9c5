"""What every report returns: the rows plus how they were obtained."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Result(BaseModel):
    """A report's rows with their provenance (formula, SQL, engine, timing, input sizes)."""

    report: str
    engine: str
    columns: list[str]
    rows: list[dict[str, Any]]
    formula: dict[str, str] = Field(default_factory=dict,
                                    description="Column → how it is computed.")
    sql: list[str] = Field(default_factory=list, description="Compiled SQL, one per query run.")
    seconds: float = 0.0
    row_counts: dict[str, int] = Field(default_factory=dict,
                                       description="Rows of each input the figures rest on.")
    drilldown: dict[str, Any] = Field(
        default_factory=dict, description="How to list the records behind a figure.")
    query: dict[str, Any] = Field(default_factory=dict)

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (for notebooks)."""
        import pandas

        return pandas.DataFrame(self.rows, columns=self.columns or None)
