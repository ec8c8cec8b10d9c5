"""bulk imports of orders and deals: a deal's external id, an order's channel and campaign

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.create_index(
            "ix_deal_workspace_external", ["workspace_id", "external_id"], unique=True
        )
    with op.batch_alter_table("sales_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_id", ID, nullable=True))
        batch_op.add_column(sa.Column("campaign_id", ID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_sales_order_channel_id_channel"), "channel", ["channel_id"], ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            op.f("fk_sales_order_campaign_id_campaign"), "campaign", ["campaign_id"], ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("sales_order", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_sales_order_campaign_id_campaign"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_sales_order_channel_id_channel"), type_="foreignkey")
        batch_op.drop_column("campaign_id")
        batch_op.drop_column("channel_id")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_workspace_external")
        batch_op.drop_column("external_id")
