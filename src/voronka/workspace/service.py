"""Workspace set-up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from voronka.config import get_settings
from voronka.workspace.models import DEFAULT_WORKSPACE_ID, Workspace


def ensure_default(session: Session, *, name: str = "Voronka") -> Workspace:
    """Return workspace 1, creating it on a fresh install."""
    workspace = session.get(Workspace, DEFAULT_WORKSPACE_ID)
    if workspace is None:
        settings = get_settings()
        workspace = Workspace(
            id=DEFAULT_WORKSPACE_ID,
            name=name,
            timezone=settings.timezone,
            currency=settings.default_currency,
        )
        session.add(workspace)
        session.flush()
    return workspace
