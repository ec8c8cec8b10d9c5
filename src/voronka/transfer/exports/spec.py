"""What an export is: its entity, columns, the filters it takes and where rows come from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope


class ExportEntity(StrEnum):
    CLIENTS = "clients"
    COMPANIES = "companies"
    DEALS = "deals"
    DEAL_STAGES = "deal-stages"
    ACTIVITIES = "activities"
    ORDERS = "orders"
    PRODUCTS = "products"
    TOUCHPOINTS = "touchpoints"


class FilterName(StrEnum):
    """The filters an export may take (each spec names the ones it supports)."""

    OWNER = "owner_id"
    PERIOD = "period"  # date_from / date_to on the export's own date column
    PIPELINE = "pipeline_id"
    STATUS = "status"
    KIND = "kind"


@dataclass(frozen=True)
class ExportFilter:
    """Optional narrowing of an export (recorded in the audit event as given: ids and
    words, never a personal value). ``date_from`` is included, ``date_to`` excluded; a bound
    without an offset is in the workspace's time zone."""

    owner_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    pipeline_id: int | None = None
    status: str | None = None
    kind: str | None = None

    def given(self) -> set[FilterName]:
        names = set()
        for name, value in asdict(self).items():
            if value is not None:
                names.add(FilterName.PERIOD if name.startswith("date_") else FilterName(name))
        return names

    def as_audit(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v is not None}


RowSource = Callable[[Session, Actor, Scope, ExportFilter], Iterator[tuple[Any, ...]]]
Counter = Callable[[Session, Actor, Scope, ExportFilter], int]


@dataclass(frozen=True)
class ExportSpec:
    """One export. ``columns`` are the bulk import's field names where the import has one
    (so a file goes back in unchanged); ``date_column`` names what the period filters on."""

    entity: ExportEntity
    resource: str  # the policy resource whose EXPORT scope applies
    columns: tuple[str, ...]
    filters: frozenset[FilterName]
    date_column: str
    rows: RowSource
    count: Counter
    statuses: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    personal: bool = True  # whether rows hold personal data (all but the catalogue)
