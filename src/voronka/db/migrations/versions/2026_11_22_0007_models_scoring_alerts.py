"""lead scores, model runs, alerts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _workspace(table: str) -> list[sa.Column | sa.Constraint]:  # type: ignore[type-arg]
    return [
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"],
                                name=op.f(f"fk_{table}_workspace_id_workspace"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "model_run",
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("running", "ready", "failed", name="model_run_status",
                    native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("training_rows", sa.Integer(), nullable=False),
        sa.Column("scored_rows", sa.Integer(), nullable=False),
        sa.Column("metrics", JSON, nullable=True),
        sa.Column("artefact", sa.String(length=500), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by_id", ID, nullable=True),
        *_workspace("model_run"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_model_run_created_by_id_user_account"),
                                ondelete="SET NULL"),
        sa.UniqueConstraint("workspace_id", "kind", "version",
                            name=op.f("uq_model_run_workspace_id_kind_version")),
    )
    op.create_index("ix_model_run_kind_status", "model_run", ["kind", "status"])
    op.create_index(op.f("ix_model_run_workspace_id"), "model_run", ["workspace_id"])

    op.create_table(
        "deal_score",
        sa.Column("deal_id", ID, nullable=False),
        sa.Column("model_run_id", ID, nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("contributions", JSON, nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        *_workspace("deal_score"),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"],
                                name=op.f("fk_deal_score_deal_id_deal"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["model_run_id"], ["model_run.id"],
                                name=op.f("fk_deal_score_model_run_id_model_run"),
                                ondelete="CASCADE"),
        sa.UniqueConstraint("deal_id", "model_run_id",
                            name=op.f("uq_deal_score_deal_id_model_run_id")),
    )
    op.create_index("ix_deal_score_run_probability", "deal_score",
                    ["model_run_id", "probability"])
    op.create_index(op.f("ix_deal_score_workspace_id"), "deal_score", ["workspace_id"])

    op.create_table(
        "metric_alert",
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("z_score", sa.Float(), nullable=False),
        sa.Column("change_pct", sa.Float(), nullable=True),
        sa.Column("breakdown", sa.String(length=32), nullable=True),
        sa.Column("segments", JSON, nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        *_workspace("metric_alert"),
        sa.UniqueConstraint("workspace_id", "metric", "day",
                            name=op.f("uq_metric_alert_workspace_id_metric_day")),
    )
    op.create_index("ix_metric_alert_day", "metric_alert", ["day"])
    op.create_index(op.f("ix_metric_alert_workspace_id"), "metric_alert", ["workspace_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_metric_alert_workspace_id"), table_name="metric_alert")
    op.drop_index("ix_metric_alert_day", table_name="metric_alert")
    op.drop_table("metric_alert")
    op.drop_index(op.f("ix_deal_score_workspace_id"), table_name="deal_score")
    op.drop_index("ix_deal_score_run_probability", table_name="deal_score")
    op.drop_table("deal_score")
    op.drop_index(op.f("ix_model_run_workspace_id"), table_name="model_run")
    op.drop_index("ix_model_run_kind_status", table_name="model_run")
    op.drop_table("model_run")
