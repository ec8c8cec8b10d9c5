"""site tracker, visits, dynamic numbers, lead forms, inbound mail

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "mail_cursor",
        sa.Column("mailbox", sa.String(length=300), nullable=False),
        sa.Column("uid_validity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_mail_cursor_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_cursor")),
        sa.UniqueConstraint("mailbox", name=op.f("uq_mail_cursor_mailbox")),
    )
    op.create_index(
        op.f("ix_mail_cursor_workspace_id"), "mail_cursor", ["workspace_id"], unique=False
    )
    op.create_table(
        "site",
        sa.Column("site_key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("allowed_origins", JSON, nullable=False),
        sa.Column("default_number", sa.String(length=32), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_site_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("site_key", name=op.f("uq_site_site_key")),
    )
    op.create_index(op.f("ix_site_workspace_id"), "site", ["workspace_id"], unique=False)
    op.create_table(
        "lead_form",
        sa.Column("form_key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("site_id", ID, nullable=True),
        sa.Column("channel_id", ID, nullable=True),
        sa.Column("campaign_id", ID, nullable=True),
        sa.Column("pipeline_id", ID, nullable=True),
        sa.Column("owner_id", ID, nullable=True),
        sa.Column("honeypot_field", sa.String(length=64), nullable=False),
        sa.Column("min_fill_seconds", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("token_key", sa.String(length=64), nullable=False),
        sa.Column("consent_text_version", sa.String(length=50), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_lead_form_campaign_id_campaign"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
            name=op.f("fk_lead_form_channel_id_channel"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user_account.id"],
            name=op.f("fk_lead_form_owner_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipeline.id"],
            name=op.f("fk_lead_form_pipeline_id_pipeline"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_lead_form_site_id_site"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_lead_form_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_form")),
        sa.UniqueConstraint("form_key", name=op.f("uq_lead_form_form_key")),
    )
    op.create_index(op.f("ix_lead_form_workspace_id"), "lead_form", ["workspace_id"], unique=False)
    op.create_table(
        "site_visitor",
        sa.Column("site_id", ID, nullable=False),
        sa.Column("visitor_key", sa.String(length=64), nullable=False),
        sa.Column("client_id", ID, nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("linked_by", sa.String(length=20), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
            name=op.f("fk_site_visitor_client_id_client"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_site_visitor_site_id_site"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_site_visitor_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_visitor")),
        sa.UniqueConstraint(
            "site_id", "visitor_key", name=op.f("uq_site_visitor_site_id_visitor_key")
        ),
    )
    op.create_index("ix_site_visitor_client", "site_visitor", ["client_id"], unique=False)
    op.create_index(
        op.f("ix_site_visitor_workspace_id"), "site_visitor", ["workspace_id"], unique=False
    )
    op.create_table(
        "form_submission",
        sa.Column("form_id", ID, nullable=False),
        sa.Column("submission_key", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "accepted",
                "spam",
                name="submission_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("spam_reason", sa.String(length=100), nullable=True),
        sa.Column("visitor_key", sa.String(length=64), nullable=True),
        sa.Column("client_id", ID, nullable=True),
        sa.Column("deal_id", ID, nullable=True),
        sa.Column("client_created", sa.Boolean(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
            name=op.f("fk_form_submission_client_id_client"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deal.id"],
            name=op.f("fk_form_submission_deal_id_deal"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["lead_form.id"],
            name=op.f("fk_form_submission_form_id_lead_form"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_form_submission_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission")),
        sa.UniqueConstraint(
            "form_id", "submission_key", name=op.f("uq_form_submission_form_id_submission_key")
        ),
    )
    op.create_index(
        "ix_form_submission_form_time", "form_submission", ["form_id", "received_at"], unique=False
    )
    op.create_index(
        op.f("ix_form_submission_workspace_id"), "form_submission", ["workspace_id"], unique=False
    )
    op.create_table(
        "site_visit",
        sa.Column("site_id", ID, nullable=False),
        sa.Column("visitor_id", ID, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utm_source", sa.String(length=200), nullable=True),
        sa.Column("utm_medium", sa.String(length=200), nullable=True),
        sa.Column("utm_campaign", sa.String(length=200), nullable=True),
        sa.Column("utm_content", sa.String(length=200), nullable=True),
        sa.Column("utm_term", sa.String(length=200), nullable=True),
        sa.Column("referrer", sa.String(length=1000), nullable=True),
        sa.Column("landing_page", sa.String(length=1000), nullable=True),
        sa.Column("campaign_id", ID, nullable=True),
        sa.Column("channel_id", ID, nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("seconds_on_site", sa.Integer(), nullable=False),
        sa.Column("touchpoint_id", ID, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_site_visit_campaign_id_campaign"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
            name=op.f("fk_site_visit_channel_id_channel"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_site_visit_site_id_site"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["touchpoint_id"],
            ["touchpoint.id"],
            name=op.f("fk_site_visit_touchpoint_id_touchpoint"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["site_visitor.id"],
            name=op.f("fk_site_visit_visitor_id_site_visitor"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_site_visit_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_visit")),
    )
    op.create_index(
        "ix_site_visit_open",
        "site_visit",
        ["workspace_id", "ended_at", "last_activity_at"],
        unique=False,
    )
    op.create_index(
        "ix_site_visit_visitor_activity",
        "site_visit",
        ["visitor_id", "last_activity_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_site_visit_workspace_id"), "site_visit", ["workspace_id"], unique=False
    )
    op.create_table(
        "number_reservation",
        sa.Column("site_id", ID, nullable=False),
        sa.Column("visit_id", ID, nullable=False),
        sa.Column("tracking_number_id", ID, nullable=True),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_number_reservation_site_id_site"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tracking_number_id"],
            ["tracking_number.id"],
            name=op.f("fk_number_reservation_tracking_number_id_tracking_number"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["site_visit.id"],
            name=op.f("fk_number_reservation_visit_id_site_visit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_number_reservation_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_reservation")),
    )
    op.create_index(
        "ix_number_reservation_number",
        "number_reservation",
        ["tracking_number_id", "held_until"],
        unique=False,
    )
    op.create_index(
        "ix_number_reservation_site_time",
        "number_reservation",
        ["site_id", "reserved_at"],
        unique=False,
    )
    op.create_index(
        "ix_number_reservation_visit",
        "number_reservation",
        ["visit_id", "held_until"],
        unique=False,
    )
    op.create_index(
        op.f("ix_number_reservation_workspace_id"),
        "number_reservation",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "site_goal",
        sa.Column("visit_id", ID, nullable=False),
        sa.Column("event_key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["site_visit.id"],
            name=op.f("fk_site_goal_visit_id_site_visit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_site_goal_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_goal")),
        sa.UniqueConstraint("visit_id", "event_key", name=op.f("uq_site_goal_visit_id_event_key")),
    )
    op.create_index(op.f("ix_site_goal_workspace_id"), "site_goal", ["workspace_id"], unique=False)
    op.create_table(
        "site_page_view",
        sa.Column("visit_id", ID, nullable=False),
        sa.Column("view_key", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["site_visit.id"],
            name=op.f("fk_site_page_view_visit_id_site_visit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_site_page_view_workspace_id_workspace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_page_view")),
        sa.UniqueConstraint(
            "visit_id", "view_key", name=op.f("uq_site_page_view_visit_id_view_key")
        ),
    )
    op.create_index(
        op.f("ix_site_page_view_workspace_id"), "site_page_view", ["workspace_id"], unique=False
    )


def downgrade() -> None:
    # indexes go with their tables
    op.drop_table("site_page_view")
    op.drop_table("site_goal")
    op.drop_table("number_reservation")
    op.drop_table("site_visit")
    op.drop_table("form_submission")
    op.drop_table("site_visitor")
    op.drop_table("lead_form")
    op.drop_table("site")
    op.drop_table("mail_cursor")
