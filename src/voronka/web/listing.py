"""Pagination and sorting shared by every list endpoint.

Sorting takes ``sort=field`` or ``sort=-field`` from an allowlist per resource (never raw SQL);
page sizes are capped by settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from voronka.config import get_settings
from voronka.errors import BadRequest, ErrorDetail

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class PageRequest(BaseModel):
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_request(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
    page_size: Annotated[
        int | None, Query(ge=1, description="Rows per page (capped by the server).")
    ] = None,
) -> PageRequest:
    settings = get_settings()
    size = min(page_size or settings.page_size_default, settings.page_size_max)
    return PageRequest(page=page, page_size=size)


Paging = Annotated[PageRequest, Depends(page_request)]
SortParam = Annotated[
    str | None,
    Query(max_length=64, description="Field to sort by; prefix with `-` for descending."),
]


def apply_sort(
    query: Select[Any],
    sort: str | None,
    allowed: Mapping[str, ColumnElement[Any]],
    default: Sequence[ColumnElement[Any]],
    tiebreak: ColumnElement[Any],
) -> Select[Any]:
    """Order ``query`` by an allowlisted field; unknown fields are a 400 naming them."""
    if not sort:
        return query.order_by(*default, tiebreak)
    name = sort.removeprefix("-")
    column = allowed.get(name)
    if column is None:
        raise BadRequest(
            f"cannot sort by {name!r}; sortable fields: {', '.join(sorted(allowed))}",
            [ErrorDetail("not sortable", field="sort", value=name[:64])],
        )
    ordered = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(ordered, tiebreak.desc() if sort.startswith("-") else tiebreak)


def fetch_page(session: Session, query: Select[Any], paging: PageRequest) -> tuple[list[Any], int]:
    """Return one page of ``query`` and the total number of matching rows."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.scalars(query.limit(paging.page_size).offset(paging.offset)))
    return rows, total or 0


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with wildcards escaped (escape char ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
