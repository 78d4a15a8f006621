"""Data-quality follow-up: daily snapshots, and the sources' registration times

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_snapshot",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("section", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "section", "subject", "metric", name=op.f("pk_quality_snapshot")
        ),
    )
    op.create_index(
        "ix_quality_snapshot_series",
        "quality_snapshot",
        ["section", "subject", "metric", "day"],
        unique=False,
    )
    # When the source last registered the record: the delivering organisation's last
    # delivery of it (R12). Unknown (NULL) for records stored before this revision.
    op.add_column(
        "municipal_case", sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "appointment", sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("appointment", "registered_at")
    op.drop_column("municipal_case", "registered_at")
    op.drop_index("ix_quality_snapshot_series", table_name="quality_snapshot")
    op.drop_table("quality_snapshot")
