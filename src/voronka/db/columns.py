"""Small column helpers so models read as a list of facts."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum
from sqlalchemy.dialects.postgresql import JSONB

#: JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")


def enum_column_type(enum: type[StrEnum], name: str) -> Enum:
    """Store a ``StrEnum`` by value in a VARCHAR with a CHECK constraint (portable)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda members: [m.value for m in members],
    )


def pd(kind: str) -> dict[str, Any]:
    """Column ``info`` classifying personal data: none, personal or sensitive."""
    return {"pd": kind}
