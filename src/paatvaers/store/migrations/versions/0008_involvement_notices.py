"""Involvement notices: what changed, the professionals who opted in, and their notices

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "involvement_change",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("child_cpr", sa.String(length=10), nullable=False),
        sa.Column("child_cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("evidence", sa.String(length=40), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_involvement_change")),
    )
    op.create_index(
        "ix_involvement_change_due",
        "involvement_change",
        ["due_at"],
        unique=False,
        postgresql_where="processed_at IS NULL",
    )
    op.create_table(
        "notice_subscription",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("email_digest", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notice_subscription")),
    )
    op.create_table(
        "notice",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("child_cpr", sa.String(length=10), nullable=False),
        sa.Column("child_cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
    )
    op.create_index(
        "ix_notice_user_unread",
        "notice",
        ["user_id", "child_cpr"],
        unique=False,
        postgresql_where="read_at IS NULL",
    )
    op.create_table(
        "notice_item",
        sa.Column("notice_id", sa.BigInteger(), nullable=False),
        sa.Column("change_id", sa.BigInteger(), nullable=False),
        sa.Column("data_flow", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notice.id"],
            name=op.f("fk_notice_item_notice_id_notice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["involvement_change.id"],
            name=op.f("fk_notice_item_change_id_involvement_change"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notice_id", "change_id", name=op.f("pk_notice_item")),
    )


def downgrade() -> None:
    op.drop_table("notice_item")
    op.drop_index("ix_notice_user_unread", table_name="notice")
    op.drop_table("notice")
    op.drop_table("notice_subscription")
    op.drop_index("ix_involvement_change_due", table_name="involvement_change")
    op.drop_table("involvement_change")
