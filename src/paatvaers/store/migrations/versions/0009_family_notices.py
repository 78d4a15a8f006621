"""Family e-mail notices: a citizen who asked to be told when a new place looks at their child

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "family_notice_subscription",
        sa.Column("citizen_cpr", sa.String(length=10), nullable=False),
        sa.Column("citizen_cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_up_to", sa.BigInteger(), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("citizen_cpr", name=op.f("pk_family_notice_subscription")),
    )


def downgrade() -> None:
    op.drop_table("family_notice_subscription")
