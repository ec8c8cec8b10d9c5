"""saved segments and target lists

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "segment",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "source",
            sa.Enum("behaviour", "rfm", name="segment_source", native_enum=False,
                    create_constraint=True),
            nullable=False,
        ),
        sa.Column("definition", sa.JSON().with_variant(
            postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_segment_created_by_id_user_account"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"],
                                name=op.f("fk_segment_workspace_id_workspace"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_segment_workspace_id_name")),
    )
    op.create_index(op.f("ix_segment_created_by_id"), "segment", ["created_by_id"])
    op.create_index(op.f("ix_segment_workspace_id"), "segment", ["workspace_id"])
    op.create_table(
        "segment_member",
        sa.Column("segment_id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"],
                                name=op.f("fk_segment_member_client_id_client"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["segment_id"], ["segment.id"],
                                name=op.f("fk_segment_member_segment_id_segment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("segment_id", "client_id", name=op.f("pk_segment_member")),
    )
    op.create_index(op.f("ix_segment_member_client_id"), "segment_member", ["client_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_segment_member_client_id"), table_name="segment_member")
    op.drop_table("segment_member")
    op.drop_index(op.f("ix_segment_workspace_id"), table_name="segment")
    op.drop_index(op.f("ix_segment_created_by_id"), table_name="segment")
    op.drop_table("segment")
