"""Portable SQL functions the engines spell differently.

``unicode_lower(x)``: Unicode-aware lower case on both engines (Python's ``str.lower``
matches PostgreSQL's ``lower()`` under a UTF-8 ctype). SQLite's built-in ``lower()`` folds
only ASCII, so every SQLite connection registers ``unicode_lower`` (see ``db.session``);
PostgreSQL's ``lower()`` follows the database's UTF-8 character type.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

SQLITE_LOWER = "unicode_lower"


class unicode_lower(GenericFunction[str]):
    type = String()
    inherit_cache = True


@compiles(unicode_lower, "sqlite")
def _lower_sqlite(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower)
def _lower_default(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


def sqlite_lower(value: str | None) -> str | None:
    """The Python side of ``unicode_lower`` registered on SQLite connections."""
    return None if value is None else value.lower()
