"""Job kinds: the handler of each kind and, for periodic kinds, how often they run."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voronka.jobs.runner import JobContext

Handler = Callable[["JobContext", dict[str, Any]], "dict[str, Any] | None"]

#: Modules that define handlers; imported before a worker looks a kind up. One line each.
HANDLER_MODULES: list[str] = [
    "voronka.integrations.telephony.tasks",
    "voronka.integrations.tasks",
    "voronka.tracking.tasks",
    "voronka.lead.tasks",
    "voronka.integrations.mail.tasks",
    "voronka.analytics.scoring.tasks",
    "voronka.analytics.alert.tasks",
    "voronka.transfer.tasks",
]


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Handler
    every: timedelta | None  # periodic kinds are enqueued by the worker once per interval
    max_attempts: int


_KINDS: dict[str, Kind] = {}


def job(name: str, *, every: timedelta | None = None,
        max_attempts: int = 3) -> Callable[[Handler], Handler]:
    """Register ``handler`` for jobs of kind ``name`` (``every``: run periodically)."""

    def register(handler: Handler) -> Handler:
        if name in _KINDS and _KINDS[name].handler is not handler:
            raise ValueError(f"job kind {name!r} is registered twice")
        _KINDS[name] = Kind(name, handler, every, max_attempts)
        return handler

    return register


def load_handlers() -> dict[str, Kind]:
    """Import every handler module and return the kinds by name."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return _KINDS


def kind(name: str) -> Kind | None:
    return load_handlers().get(name)
