"""Initial schema: organisations, children, cases, appointments, involvement

Revision ID: 0001
Revises:
Create Date: 2026-11-26 05:43:39.113687
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("patient_cpr", sa.String(length=10), nullable=False),
        sa.Column("patient_cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("performer_sor", sa.String(length=20), nullable=False),
        sa.Column("performer_name", sa.String(length=200), nullable=False),
        sa.Column("location_sor", sa.String(length=20), nullable=True),
        sa.Column("location_name", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("practice_setting_code", sa.String(length=20), nullable=True),
        sa.Column("facility_type_code", sa.String(length=20), nullable=True),
        sa.Column("episode_label", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=True),
        sa.Column("replaces_id", sa.UUID(), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked','held','cancelled','moved')", name=op.f("ck_appointment_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
    )
    op.create_index(
        op.f("ix_appointment_patient_cpr"), "appointment", ["patient_cpr"], unique=False
    )
    op.create_table(
        "org_unit",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=True),
        sa.Column("region", sa.String(length=5), nullable=True),
        sa.Column("cvr", sa.String(length=8), nullable=True),
        sa.Column("fk_org_uuid", sa.UUID(), nullable=True),
        sa.Column("sor", sa.String(length=20), nullable=True),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("institution_number", sa.String(length=6), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('child_family','ppr','bup','gp','school','daycare')",
            name=op.f("ck_org_unit_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit")),
        sa.UniqueConstraint("fk_org_uuid", name=op.f("uq_org_unit_fk_org_uuid")),
        sa.UniqueConstraint("gln", name=op.f("uq_org_unit_gln")),
        sa.UniqueConstraint("institution_number", name=op.f("uq_org_unit_institution_number")),
        sa.UniqueConstraint("sor", name=op.f("uq_org_unit_sor")),
    )
    op.create_index(
        "ix_org_unit_kind_municipality", "org_unit", ["kind", "municipality_code"], unique=False
    )
    op.create_table(
        "population_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("cpr_set_hash", sa.String(length=64), nullable=False),
        sa.Column("stats", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_population_run")),
    )
    op.create_table(
        "child",
        sa.Column("cpr", sa.String(length=10), nullable=False),
        sa.Column("cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=True),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("region", sa.String(length=5), nullable=False),
        sa.Column("gp_unit_id", sa.UUID(), nullable=True),
        sa.Column("address_protected_since", sa.Date(), nullable=True),
        sa.Column("address_protected_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["gp_unit_id"], ["org_unit.id"], name=op.f("fk_child_gp_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("cpr", name=op.f("pk_child")),
    )
    op.create_index(
        op.f("ix_child_municipality_code"), "child", ["municipality_code"], unique=False
    )
    op.create_table(
        "municipal_case",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_number", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("non_public_title", sa.String(length=255), nullable=True),
        sa.Column("kle", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sensitivity", sa.String(length=30), nullable=False),
        sa.Column("owner_cvr", sa.String(length=8), nullable=False),
        sa.Column("responsible_unit_id", sa.UUID(), nullable=False),
        sa.Column("primary_handler", sa.String(length=200), nullable=True),
        sa.Column("source_system", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "sensitivity IN ('IKKE_FORTROLIGE_DATA','FORTROLIGE_PERSONOPLYSNINGER','FOELSOMME_PERSONOPLYSNINGER','VIP_SAGER')",
            name=op.f("ck_municipal_case_sensitivity"),
        ),
        sa.CheckConstraint(
            "status IN ('Opstaaet','Oplyst','Afgjort','Afsluttet')",
            name=op.f("ck_municipal_case_status"),
        ),
        sa.ForeignKeyConstraint(
            ["responsible_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_municipal_case_responsible_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_municipal_case")),
        sa.UniqueConstraint("owner_cvr", "case_number", name=op.f("uq_municipal_case_owner_cvr")),
    )
    op.create_index(
        op.f("ix_municipal_case_responsible_unit_id"),
        "municipal_case",
        ["responsible_unit_id"],
        unique=False,
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("employee_function", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_staff_user_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_user_username")),
    )
    op.create_index(op.f("ix_staff_user_unit_id"), "staff_user", ["unit_id"], unique=False)
    op.create_table(
        "case_party",
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("cpr", sa.String(length=10), nullable=False),
        sa.Column("cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["municipal_case.id"],
            name=op.f("fk_case_party_case_id_municipal_case"),
            ondelete="CASCADE",
        ),
        # One person can be party to a case in two roles (the child as primary party and as
        # beneficiary), so the role is part of the key.
        sa.PrimaryKeyConstraint("case_id", "cpr", "role", name=op.f("pk_case_party")),
    )
    op.create_index("ix_case_party_cpr", "case_party", ["cpr"], unique=False)
    op.create_table(
        "custody_holder",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("child_cpr", sa.String(length=10), nullable=False),
        sa.Column("holder_cpr", sa.String(length=10), nullable=False),
        sa.Column("holder_cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("lives_with_child", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_cpr"],
            ["child.cpr"],
            name=op.f("fk_custody_holder_child_cpr_child"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_holder")),
        sa.UniqueConstraint("child_cpr", "holder_cpr", name=op.f("uq_custody_holder_child_cpr")),
    )
    op.create_index(
        op.f("ix_custody_holder_child_cpr"), "custody_holder", ["child_cpr"], unique=False
    )
    op.create_index(
        op.f("ix_custody_holder_holder_cpr"), "custody_holder", ["holder_cpr"], unique=False
    )
    op.create_table(
        "enrollment",
        sa.Column("child_cpr", sa.String(length=10), nullable=False),
        sa.Column("institution_unit_id", sa.UUID(), nullable=False),
        sa.Column("institution_number", sa.String(length=6), nullable=False),
        sa.Column("institution_type", sa.String(length=10), nullable=False),
        sa.Column("main_group", sa.String(length=20), nullable=True),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_cpr"],
            ["child.cpr"],
            name=op.f("fk_enrollment_child_cpr_child"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_enrollment_institution_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("child_cpr", name=op.f("pk_enrollment")),
    )
    op.create_index(
        op.f("ix_enrollment_institution_unit_id"),
        "enrollment",
        ["institution_unit_id"],
        unique=False,
    )
    op.create_table(
        "involvement",
        sa.Column("child_cpr", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("evidence", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_cpr"],
            ["child.cpr"],
            name=op.f("fk_involvement_child_cpr_child"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_involvement_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("child_cpr", "unit_id", name=op.f("pk_involvement")),
    )


def downgrade() -> None:
    op.drop_table("involvement")
    op.drop_index(op.f("ix_enrollment_institution_unit_id"), table_name="enrollment")
    op.drop_table("enrollment")
    op.drop_index(op.f("ix_custody_holder_holder_cpr"), table_name="custody_holder")
    op.drop_index(op.f("ix_custody_holder_child_cpr"), table_name="custody_holder")
    op.drop_table("custody_holder")
    op.drop_index("ix_case_party_cpr", table_name="case_party")
    op.drop_table("case_party")
    op.drop_index(op.f("ix_staff_user_unit_id"), table_name="staff_user")
    op.drop_table("staff_user")
    op.drop_index(op.f("ix_municipal_case_responsible_unit_id"), table_name="municipal_case")
    op.drop_table("municipal_case")
    op.drop_index(op.f("ix_child_municipality_code"), table_name="child")
    op.drop_table("child")
    op.drop_table("population_run")
    op.drop_index("ix_org_unit_kind_municipality", table_name="org_unit")
    op.drop_table("org_unit")
    op.drop_index(op.f("ix_appointment_patient_cpr"), table_name="appointment")
    op.drop_table("appointment")
