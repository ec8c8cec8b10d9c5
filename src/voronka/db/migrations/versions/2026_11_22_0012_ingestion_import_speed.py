"""reserved for ingestion import speed (session 4)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 18:00:00
"""

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: keeps the revision chain linear while work lands in parallel."""


def downgrade() -> None:
    """Nothing to undo."""
