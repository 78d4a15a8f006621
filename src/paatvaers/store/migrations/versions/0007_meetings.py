"""Cross-disciplinary meetings: meetings, proposed times, participants and their answers, agenda and minutes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("child_cpr", sa.String(length=10), nullable=False),
        sa.Column("child_cpr_synthetic", sa.Boolean(), nullable=False),
        sa.Column("convenor_user_id", postgresql.UUID(), nullable=False),
        sa.Column("convenor_unit_id", postgresql.UUID(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("minutes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_of", postgresql.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_of"], ["meeting.id"], name=op.f("fk_meeting_follow_up_of_meeting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    op.create_index(op.f("ix_meeting_child_cpr"), "meeting", ["child_cpr"])
    op.create_index(op.f("ix_meeting_convenor_user_id"), "meeting", ["convenor_user_id"])
    op.create_table(
        "meeting_time",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", postgresql.UUID(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_time_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_time")),
    )
    op.create_index(op.f("ix_meeting_time_meeting_id"), "meeting_time", ["meeting_id"])
    op.create_table(
        "meeting_participant",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("meeting_id", postgresql.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("unit_id", postgresql.UUID(), nullable=True),
        sa.Column("staff_user_id", postgresql.UUID(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("thread_id", sa.String(length=80), nullable=True),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_message_id", sa.String(length=64), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('convenor','professional','unit','family')",
            name=op.f("ck_meeting_participant_kind"),
        ),
        sa.CheckConstraint(
            "channel IN ('platform','medcom','none')", name=op.f("ck_meeting_participant_channel")
        ),
        sa.CheckConstraint(
            "answer IN ('pending','accepted','declined','other_time')",
            name=op.f("ck_meeting_participant_answer"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_participant_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_participant")),
    )
    for column in ("meeting_id", "unit_id", "staff_user_id", "thread_id"):
        op.create_index(op.f(f"ix_meeting_participant_{column}"), "meeting_participant", [column])


def downgrade() -> None:
    op.drop_table("meeting_participant")
    op.drop_table("meeting_time")
    op.drop_table("meeting")
