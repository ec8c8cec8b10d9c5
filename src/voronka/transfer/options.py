"""How an import runs: mode, dry run, what to do with duplicates, batch size."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

DEFAULT_BATCH_SIZE = 500


class ImportMode(StrEnum):
    ATOMIC = "atomic"  # all or nothing: one bad row and nothing is written
    PER_ROW = "per-row"  # good rows are written, bad rows are reported


class OnDuplicate(StrEnum):
    SKIP = "skip"  # leave the existing record alone
    UPDATE = "update"  # fill the existing record from the row
    CREATE = "create"  # create a new record anyway


@dataclass(frozen=True)
class ImportOptions:
    """Options of one import; ``mapping`` holds explicit ``column → field`` pairs."""

    mode: ImportMode = ImportMode.ATOMIC
    dry_run: bool = False
    on_duplicate: OnDuplicate = OnDuplicate.SKIP
    batch_size: int = DEFAULT_BATCH_SIZE
    default_owner_email: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    progress: Callable[[int, int | None], None] | None = None

    def __post_init__(self) -> None:
        # accept the plain strings a caller may pass ("per-row"); compare as enums inside
        object.__setattr__(self, "mode", ImportMode(self.mode))
        object.__setattr__(self, "on_duplicate", OnDuplicate(self.on_duplicate))
