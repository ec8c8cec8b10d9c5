"""Builders the journey tests need beyond ``factory.World``: any touchpoint, and tickets.

Times are Moscow wall-clock strings, as in ``factory``.
"""

from __future__ import annotations

from tests.analytics.factory import World, at
from voronka.campaign.models import Touchpoint, TouchpointKind
from voronka.support.models import Ticket


def touch(
    w: World,
    when: str,
    kind: TouchpointKind = TouchpointKind.VISIT,
    *,
    visitor: str | None = None,
    client: str | None = None,
    channel: str | None = None,
    landing: str | None = None,
    pages: int = 1,
    seconds: int = 30,
    utm_medium: str | None = None,
    utm_source: str | None = None,
) -> None:
    """A touchpoint of ``kind``; visits carry ``landing`` page, ``pages`` and ``seconds``."""
    w.add(
        Touchpoint(
            workspace_id=1,
            visitor_id=visitor,
            kind=kind,
            occurred_at=at(when),
            client_id=w.clients[client] if client else None,
            channel_id=w.channels[channel] if channel else None,
            landing_page=landing,
            pages=pages,
            seconds_on_site=seconds,
            utm_medium=utm_medium,
            utm_source=utm_source,
        )
    )


def ticket(w: World, client: str, when: str, deleted: bool = False) -> None:
    """A support ticket opened by ``client`` at ``when``."""
    w.add(
        Ticket(
            workspace_id=1,
            client_id=w.clients[client],
            subject="help",
            is_deleted=deleted,
            created_at=at(when),
            updated_at=at(when),
        )
    )
