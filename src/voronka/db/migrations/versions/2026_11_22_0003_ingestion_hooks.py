"""inbound event log, telephony, call tracking

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _fk(table: str, column: str, target: str, ondelete: str = "RESTRICT") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "inbound_event",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "processed",
                "failed",
                "ignored",
                name="inbound_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("handler", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", JSON, nullable=True),
        _id(),
        sa.Column("workspace_id", ID, nullable=False),
        _fk("inbound_event", "workspace_id", "workspace"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_event")),
        sa.UniqueConstraint(
            "workspace_id",
            "provider",
            "external_id",
            name=op.f("uq_inbound_event_workspace_id_provider_external_id"),
        ),
    )
    op.create_index("ix_inbound_event_status", "inbound_event", ["status", "received_at"])
    op.create_index(
        "ix_inbound_event_received", "inbound_event", ["workspace_id", "received_at"]
    )
    op.create_index(
        op.f("ix_inbound_event_workspace_id"), "inbound_event", ["workspace_id"]
    )

    op.create_table(
        "telephony_call",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_call_id", sa.String(length=128), nullable=False),
        sa.Column("activity_id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=True),
        sa.Column("deal_id", ID, nullable=True),
        sa.Column("touchpoint_id", ID, nullable=True),
        sa.Column("tracking_number_id", ID, nullable=True),
        sa.Column("channel_id", ID, nullable=True),
        sa.Column("campaign_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("caller", sa.String(length=32), nullable=True),
        sa.Column("is_inbound", sa.Boolean(), nullable=False),
        sa.Column("manager_extension", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("is_unique", sa.Boolean(), nullable=False),
        sa.Column("created_client", sa.Boolean(), nullable=False),
        sa.Column("reservation", sa.String(length=200), nullable=True),
        _id(),
        sa.Column("workspace_id", ID, nullable=False),
        *_timestamps(),
        _fk("telephony_call", "activity_id", "activity"),
        _fk("telephony_call", "campaign_id", "campaign"),
        _fk("telephony_call", "channel_id", "channel"),
        _fk("telephony_call", "client_id", "client"),
        _fk("telephony_call", "deal_id", "deal"),
        _fk("telephony_call", "touchpoint_id", "touchpoint"),
        _fk("telephony_call", "tracking_number_id", "tracking_number"),
        _fk("telephony_call", "user_id", "user_account"),
        _fk("telephony_call", "workspace_id", "workspace"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_call")),
        sa.UniqueConstraint(
            "workspace_id",
            "provider",
            "provider_call_id",
            name=op.f("uq_telephony_call_workspace_id_provider_provider_call_id"),
        ),
    )
    op.create_index(
        "ix_telephony_call_caller_time", "telephony_call", ["workspace_id", "caller", "started_at"]
    )
    op.create_index(op.f("ix_telephony_call_activity_id"), "telephony_call", ["activity_id"])
    op.create_index(op.f("ix_telephony_call_client_id"), "telephony_call", ["client_id"])
    op.create_index(op.f("ix_telephony_call_workspace_id"), "telephony_call", ["workspace_id"])

    op.create_table(
        "telephony_extension",
        sa.Column("extension", sa.String(length=32), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        _id(),
        sa.Column("workspace_id", ID, nullable=False),
        *_timestamps(),
        _fk("telephony_extension", "user_id", "user_account", ondelete="CASCADE"),
        _fk("telephony_extension", "workspace_id", "workspace"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_extension")),
        sa.UniqueConstraint(
            "workspace_id",
            "extension",
            name=op.f("uq_telephony_extension_workspace_id_extension"),
        ),
    )
    op.create_index(
        op.f("ix_telephony_extension_user_id"), "telephony_extension", ["user_id"]
    )
    op.create_index(
        op.f("ix_telephony_extension_workspace_id"), "telephony_extension", ["workspace_id"]
    )


def downgrade() -> None:
    op.drop_table("telephony_extension")
    op.drop_table("telephony_call")
    op.drop_table("inbound_event")
