"""Access: staff data restrictions, the child's address and GP history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:00:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "staff_user",
        sa.Column("kle_scope", postgresql.ARRAY(sa.String(length=12)), nullable=True),
    )
    op.add_column("staff_user", sa.Column("max_sensitivity", sa.String(length=30), nullable=True))
    op.add_column("child", sa.Column("address_line", sa.String(length=200), nullable=True))
    op.add_column("child", sa.Column("postcode", sa.String(length=4), nullable=True))
    op.add_column("child", sa.Column("city", sa.String(length=100), nullable=True))
    op.add_column("child", sa.Column("gp_since", sa.Date(), nullable=True))
    op.add_column("child", sa.Column("previous_gp_unit_id", sa.UUID(), nullable=True))


def downgrade() -> None:
    for column in ("previous_gp_unit_id", "gp_since", "city", "postcode", "address_line"):
        op.drop_column("child", column)
    op.drop_column("staff_user", "max_sensitivity")
    op.drop_column("staff_user", "kle_scope")
