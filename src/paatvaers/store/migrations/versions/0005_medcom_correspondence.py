"""MedCom correspondence: messages, outbox, threads, address book

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "medcom_endpoint",
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("sor", sa.String(length=20), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=False),
        sa.Column("transport", sa.String(length=10), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("receives_carecommunication", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "transport IN ('web','vans','http')", name=op.f("ck_medcom_endpoint_transport")
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_medcom_endpoint")),
        sa.UniqueConstraint("gln", name=op.f("uq_medcom_endpoint_gln")),
    )
    op.create_table(
        "medcom_message",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("thread_id", sa.String(length=80), nullable=True),
        sa.Column("acknowledges", sa.String(length=64), nullable=True),
        sa.Column("sender_gln", sa.String(length=13), nullable=False),
        sa.Column("receiver_gln", sa.String(length=13), nullable=False),
        sa.Column("child_cpr", sa.String(length=10), nullable=True),
        sa.Column("child_cpr_synthetic", sa.Boolean(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("bundle", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sent_by_user_id", sa.UUID(), nullable=True),
        sa.Column("delivery", sa.String(length=12), nullable=True),
        sa.Column("delivery_note", sa.Text(), nullable=True),
        sa.Column("ack_outcome", sa.String(length=16), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "ack_outcome IS NULL OR ack_outcome IN ('ok','transient-error','fatal-error')",
            name=op.f("ck_medcom_message_ack_outcome"),
        ),
        sa.CheckConstraint(
            "delivery IS NULL OR delivery IN ('queued','sent','acknowledged','failed')",
            name=op.f("ck_medcom_message_delivery"),
        ),
        sa.CheckConstraint("direction IN ('in','out')", name=op.f("ck_medcom_message_direction")),
        sa.CheckConstraint(
            "kind IN ('carecommunication','acknowledgement')", name=op.f("ck_medcom_message_kind")
        ),
        sa.PrimaryKeyConstraint("message_id", "direction", name=op.f("pk_medcom_message")),
    )
    op.create_index(
        op.f("ix_medcom_message_acknowledges"), "medcom_message", ["acknowledges"], unique=False
    )
    op.create_index(
        op.f("ix_medcom_message_receiver_gln"), "medcom_message", ["receiver_gln"], unique=False
    )
    op.create_index(
        op.f("ix_medcom_message_thread_id"), "medcom_message", ["thread_id"], unique=False
    )
    # Stored out of line without compression: a message is mostly base64 attachments, which
    # do not compress, and PostgreSQL's default compression (pglz) doubled the time to store
    # one (bench/medcom.py).
    op.execute("ALTER TABLE medcom_message ALTER COLUMN bundle SET STORAGE EXTERNAL")
    op.create_table(
        "medcom_quarantine",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medcom_quarantine")),
    )
    op.create_table(
        "medcom_thread",
        sa.Column("thread_id", sa.String(length=80), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("counterpart_gln", sa.String(length=13), nullable=False),
        sa.Column("child_cpr", sa.String(length=10), nullable=False),
        sa.Column("child_cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("assigned_user_id", sa.UUID(), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_message_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", "unit_id", name=op.f("pk_medcom_thread")),
    )
    op.create_index(op.f("ix_medcom_thread_unit_id"), "medcom_thread", ["unit_id"], unique=False)
    op.create_table(
        "medcom_thread_read",
        sa.Column("thread_id", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", "user_id", name=op.f("pk_medcom_thread_read")),
    )
    op.create_table(
        "medcom_outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("transport_failures", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending','awaiting_ack','done','failed')",
            name=op.f("ck_medcom_outbox_state"),
        ),
        sa.CheckConstraint("direction = 'out'", name=op.f("ck_medcom_outbox_direction")),
        sa.ForeignKeyConstraint(
            ["message_id", "direction"],
            ["medcom_message.message_id", "medcom_message.direction"],
            name=op.f("fk_medcom_outbox_message_id_medcom_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medcom_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_medcom_outbox_message_id")),
    )
    op.create_index(
        "ix_medcom_outbox_due",
        "medcom_outbox",
        ["due_at"],
        unique=False,
        postgresql_where="state IN ('pending','awaiting_ack')",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_medcom_outbox_due",
        table_name="medcom_outbox",
        postgresql_where="state IN ('pending','awaiting_ack')",
    )
    op.drop_table("medcom_outbox")
    op.drop_table("medcom_thread_read")
    op.drop_index(op.f("ix_medcom_thread_unit_id"), table_name="medcom_thread")
    op.drop_table("medcom_thread")
    op.drop_table("medcom_quarantine")
    op.drop_index(op.f("ix_medcom_message_thread_id"), table_name="medcom_message")
    op.drop_index(op.f("ix_medcom_message_receiver_gln"), table_name="medcom_message")
    op.drop_index(op.f("ix_medcom_message_acknowledges"), table_name="medcom_message")
    op.drop_table("medcom_message")
    op.drop_table("medcom_endpoint")
