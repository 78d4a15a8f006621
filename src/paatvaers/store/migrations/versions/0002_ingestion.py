"""Ingestion: freshness, quarantine, runs and checkpoints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:57:53.253209
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_with_backfill(table: str, column: sa.Column[object], value: str) -> None:
    """Add a NOT NULL column to a table that may hold rows: fill them, then drop the default."""
    op.add_column(
        table,
        sa.Column(column.name, column.type, nullable=False, server_default=sa.text(value)),
    )
    op.alter_column(table, column.name, server_default=None)


def upgrade() -> None:
    op.create_table(
        "ingest_checkpoint",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("high_water_mark", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_ingest_checkpoint")),
    )
    op.create_table(
        "ingest_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("since", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("high_water_mark", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("upserted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("mode IN ('full','incremental')", name=op.f("ck_ingest_run_mode")),
        sa.CheckConstraint(
            "status IN ('running','completed','failed')", name=op.f("ck_ingest_run_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_run")),
    )
    op.create_index(op.f("ix_ingest_run_source"), "ingest_run", ["source"], unique=False)
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("payload_hash", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint(
            "source", "record_key", "payload_hash", name=op.f("uq_quarantine_source")
        ),
    )
    _add_with_backfill(
        "appointment", sa.Column("source", sa.String(length=20), nullable=False), "'appointments'"
    )
    _add_with_backfill(
        "appointment",
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        "now()",
    )
    op.add_column("appointment", sa.Column("content_hash", sa.String(length=32), nullable=True))
    op.add_column("appointment", sa.Column("requester_sor", sa.String(length=20), nullable=True))
    op.create_index(op.f("ix_appointment_source"), "appointment", ["source"], unique=False)
    op.add_column("child", sa.Column("moved_in_on", sa.Date(), nullable=True))
    op.add_column(
        "child", sa.Column("previous_municipality_code", sa.String(length=4), nullable=True)
    )
    _add_with_backfill("child", sa.Column("source", sa.String(length=20), nullable=False), "'cpr'")
    _add_with_backfill(
        "child", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False), "now()"
    )
    op.add_column("child", sa.Column("content_hash", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_child_source"), "child", ["source"], unique=False)
    op.drop_constraint(op.f("fk_child_gp_unit_id_org_unit"), "child", type_="foreignkey")
    # Existing rows come from the synthetic population writer: every CPR in them is synthetic.
    _add_with_backfill(
        "enrollment", sa.Column("child_cpr_synthetic", sa.Boolean(), nullable=False), "true"
    )
    _add_with_backfill(
        "enrollment", sa.Column("source", sa.String(length=20), nullable=False), "'institutions'"
    )
    _add_with_backfill(
        "enrollment", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False), "now()"
    )
    op.add_column("enrollment", sa.Column("content_hash", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_enrollment_source"), "enrollment", ["source"], unique=False)
    op.drop_constraint(
        op.f("fk_enrollment_institution_unit_id_org_unit"), "enrollment", type_="foreignkey"
    )
    op.drop_constraint(op.f("fk_enrollment_child_cpr_child"), "enrollment", type_="foreignkey")
    _add_with_backfill(
        "involvement", sa.Column("child_cpr_synthetic", sa.Boolean(), nullable=False), "true"
    )
    op.drop_constraint(op.f("fk_involvement_unit_id_org_unit"), "involvement", type_="foreignkey")
    op.drop_constraint(op.f("fk_involvement_child_cpr_child"), "involvement", type_="foreignkey")
    _add_with_backfill(
        "municipal_case", sa.Column("source", sa.String(length=20), nullable=False), "'case_index'"
    )
    _add_with_backfill(
        "municipal_case",
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        "now()",
    )
    op.add_column("municipal_case", sa.Column("content_hash", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_municipal_case_source"), "municipal_case", ["source"], unique=False)
    op.drop_constraint(
        op.f("fk_municipal_case_responsible_unit_id_org_unit"), "municipal_case", type_="foreignkey"
    )
    _add_with_backfill(
        "org_unit", sa.Column("source", sa.String(length=20), nullable=False), "'population'"
    )
    _add_with_backfill(
        "org_unit", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False), "now()"
    )
    op.add_column("org_unit", sa.Column("content_hash", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_org_unit_source"), "org_unit", ["source"], unique=False)
    _add_with_backfill(
        "staff_user", sa.Column("source", sa.String(length=20), nullable=False), "'population'"
    )
    _add_with_backfill(
        "staff_user", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False), "now()"
    )
    op.add_column("staff_user", sa.Column("content_hash", sa.String(length=32), nullable=True))
    op.alter_column("staff_user", "is_demo", server_default=sa.false())
    op.create_index(op.f("ix_staff_user_source"), "staff_user", ["source"], unique=False)
    op.drop_constraint(op.f("fk_staff_user_unit_id_org_unit"), "staff_user", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        op.f("fk_staff_user_unit_id_org_unit"), "staff_user", "org_unit", ["unit_id"], ["id"]
    )
    op.drop_index(op.f("ix_staff_user_source"), table_name="staff_user")
    op.alter_column("staff_user", "is_demo", server_default=None)
    op.drop_column("staff_user", "content_hash")
    op.drop_column("staff_user", "confirmed_at")
    op.drop_column("staff_user", "source")
    op.drop_index(op.f("ix_org_unit_source"), table_name="org_unit")
    op.drop_column("org_unit", "content_hash")
    op.drop_column("org_unit", "confirmed_at")
    op.drop_column("org_unit", "source")
    op.create_foreign_key(
        op.f("fk_municipal_case_responsible_unit_id_org_unit"),
        "municipal_case",
        "org_unit",
        ["responsible_unit_id"],
        ["id"],
    )
    op.drop_index(op.f("ix_municipal_case_source"), table_name="municipal_case")
    op.drop_column("municipal_case", "content_hash")
    op.drop_column("municipal_case", "confirmed_at")
    op.drop_column("municipal_case", "source")
    op.create_foreign_key(
        op.f("fk_involvement_child_cpr_child"),
        "involvement",
        "child",
        ["child_cpr"],
        ["cpr"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        op.f("fk_involvement_unit_id_org_unit"), "involvement", "org_unit", ["unit_id"], ["id"]
    )
    op.drop_column("involvement", "child_cpr_synthetic")
    op.create_foreign_key(
        op.f("fk_enrollment_child_cpr_child"),
        "enrollment",
        "child",
        ["child_cpr"],
        ["cpr"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        op.f("fk_enrollment_institution_unit_id_org_unit"),
        "enrollment",
        "org_unit",
        ["institution_unit_id"],
        ["id"],
    )
    op.drop_index(op.f("ix_enrollment_source"), table_name="enrollment")
    op.drop_column("enrollment", "content_hash")
    op.drop_column("enrollment", "confirmed_at")
    op.drop_column("enrollment", "source")
    op.drop_column("enrollment", "child_cpr_synthetic")
    op.create_foreign_key(
        op.f("fk_child_gp_unit_id_org_unit"), "child", "org_unit", ["gp_unit_id"], ["id"]
    )
    op.drop_index(op.f("ix_child_source"), table_name="child")
    op.drop_column("child", "content_hash")
    op.drop_column("child", "confirmed_at")
    op.drop_column("child", "source")
    op.drop_column("child", "previous_municipality_code")
    op.drop_column("child", "moved_in_on")
    op.drop_index(op.f("ix_appointment_source"), table_name="appointment")
    op.drop_column("appointment", "requester_sor")
    op.drop_column("appointment", "content_hash")
    op.drop_column("appointment", "confirmed_at")
    op.drop_column("appointment", "source")
    op.drop_table("quarantine")
    op.drop_index(op.f("ix_ingest_run_source"), table_name="ingest_run")
    op.drop_table("ingest_run")
    op.drop_table("ingest_checkpoint")
