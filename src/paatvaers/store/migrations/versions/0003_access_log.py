"""Access log: append-only, hash-chained access events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows are never changed or removed. The one exception is sealing: the sequencer fills
# seq, prev_hash and chain_hash once, on a row that has none, and changes nothing else.
_GUARD = """
CREATE FUNCTION access_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.chain_hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.chain_hash IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'chain_hash')
           = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'chain_hash')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'access_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER access_event_no_change
    BEFORE UPDATE OR DELETE ON access_event
    FOR EACH ROW EXECUTE FUNCTION access_event_guard();
CREATE TRIGGER access_event_no_truncate
    BEFORE TRUNCATE ON access_event
    FOR EACH STATEMENT EXECUTE FUNCTION access_event_guard();
"""


def upgrade() -> None:
    op.create_table(
        "access_event",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("employee_function", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("child_cpr", sa.String(length=10), nullable=True),
        sa.Column("child_cpr_synthetic", sa.Boolean(), nullable=True),
        sa.Column("data_flow", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=6), nullable=False),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("legal_reference", sa.Text(), nullable=True),
        sa.Column("record_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("chain_hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "action IN ('decide','read','search')", name=op.f("ck_access_event_action")
        ),
        sa.CheckConstraint("decision IN ('permit','deny')", name=op.f("ck_access_event_decision")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_event")),
        sa.UniqueConstraint("seq", name=op.f("uq_access_event_seq")),
    )
    op.create_index(op.f("ix_access_event_user_id"), "access_event", ["user_id"])
    op.create_index("ix_access_event_child_recorded", "access_event", ["child_cpr", "recorded_at"])
    op.create_index(
        "ix_access_event_unsealed",
        "access_event",
        ["id"],
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.execute(_GUARD)


def downgrade() -> None:
    op.execute("DROP TABLE access_event")
    op.execute("DROP FUNCTION access_event_guard()")
