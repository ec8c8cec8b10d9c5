"""reserved for call event processing (session 4)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 18:00:00
"""

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: keeps the revision chain linear while work lands in parallel."""


def downgrade() -> None:
    """Nothing to undo."""
