"""The relational schema. Alembic migrations under `migrations/` create it; tests never use
`create_all`, so the migrations are what runs everywhere.

Every column that holds a CPR number has a sibling `*_synthetic` flag: synthetic people are
marked where they are stored, so no export or report can mistake them for real ones.

Every record that a national source delivers carries `Freshness`: which source, when it was
last confirmed, and a hash of its content (so an unchanged record is not rewritten).
References between records of different sources (a case's responsible unit, a child's school)
are not foreign keys: the sources arrive independently and in any order, and a dangling
reference is a data-quality finding (R12), not a reason to refuse the record.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Freshness:
    """Columns of a record delivered by a national source."""

    source: Mapped[str] = mapped_column(String(20), index=True)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content_hash: Mapped[str | None] = mapped_column(String(32))


class OrgUnitRow(Freshness, Base):
    __tablename__ = "org_unit"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    municipality_code: Mapped[str | None] = mapped_column(String(4))
    region: Mapped[str | None] = mapped_column(String(5))
    cvr: Mapped[str | None] = mapped_column(String(8))
    fk_org_uuid: Mapped[uuid.UUID | None] = mapped_column(UUID, unique=True)
    sor: Mapped[str | None] = mapped_column(String(20), unique=True)
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    institution_number: Mapped[str | None] = mapped_column(String(6), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint(
            "kind IN ('child_family','ppr','bup','gp','school','daycare')", name="kind"
        ),
        Index("ix_org_unit_kind_municipality", "kind", "municipality_code"),
    )


class ChildRow(Freshness, Base):
    __tablename__ = "child"

    cpr: Mapped[str] = mapped_column(String(10), primary_key=True)
    cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(6))
    municipality_code: Mapped[str] = mapped_column(String(4), index=True)
    region: Mapped[str] = mapped_column(String(5))
    gp_unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    address_protected_since: Mapped[date | None] = mapped_column(Date)
    address_protected_until: Mapped[date | None] = mapped_column(Date)
    moved_in_on: Mapped[date | None] = mapped_column(Date)
    previous_municipality_code: Mapped[str | None] = mapped_column(String(4))
    # The address CPR holds (synthetic); withheld from other professionals when protected.
    address_line: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(4))
    city: Mapped[str | None] = mapped_column(String(100))
    # The GP choice (lægevalg) and the one before it, so an ended GP relationship is known.
    gp_since: Mapped[date | None] = mapped_column(Date)
    previous_gp_unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID)


class CustodyHolderRow(Base):
    __tablename__ = "custody_holder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    child_cpr: Mapped[str] = mapped_column(ForeignKey("child.cpr", ondelete="CASCADE"), index=True)
    holder_cpr: Mapped[str] = mapped_column(String(10), index=True)
    holder_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    lives_with_child: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("child_cpr", "holder_cpr"),)


class EnrollmentRow(Freshness, Base):
    __tablename__ = "enrollment"

    child_cpr: Mapped[str] = mapped_column(String(10), primary_key=True)
    child_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    institution_unit_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    institution_number: Mapped[str] = mapped_column(String(6))
    institution_type: Mapped[str] = mapped_column(String(10))
    main_group: Mapped[str | None] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(4))
    since: Mapped[date] = mapped_column(Date)


class StaffUserRow(Base):
    """A professional with a login. Municipal staff come from FK Organisation (Bruger),
    health staff from the regions' and clinics' own user registers."""

    __tablename__ = "staff_user"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    employee_function: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    # A demo login: the platform's own mark, which no source delivers or overwrites.
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Municipal staff: the data restrictions (KLE patterns, highest sensitivity) their login
    # grants, platform-owned like `is_demo`; none means no access to case data.
    kle_scope: Mapped[list[str] | None] = mapped_column(ARRAY(String(12)))
    max_sensitivity: Mapped[str | None] = mapped_column(String(30))
    # FK Organisation delivers municipal staff; health staff are registered locally.
    source: Mapped[str] = mapped_column(String(20), index=True)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content_hash: Mapped[str | None] = mapped_column(String(32))


class MunicipalCaseRow(Freshness, Base):
    __tablename__ = "municipal_case"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(255))
    non_public_title: Mapped[str | None] = mapped_column(String(255))
    kle: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10))
    sensitivity: Mapped[str] = mapped_column(String(30))
    owner_cvr: Mapped[str] = mapped_column(String(8))
    responsible_unit_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    primary_handler: Mapped[str | None] = mapped_column(String(200))
    source_system: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The index's registration time: when the municipality's system last delivered the case.
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("owner_cvr", "case_number"),
        CheckConstraint("status IN ('Opstaaet','Oplyst','Afgjort','Afsluttet')", name="status"),
        CheckConstraint(
            "sensitivity IN ('IKKE_FORTROLIGE_DATA','FORTROLIGE_PERSONOPLYSNINGER',"
            "'FOELSOMME_PERSONOPLYSNINGER','VIP_SAGER')",
            name="sensitivity",
        ),
    )


class CasePartyRow(Base):
    __tablename__ = "case_party"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipal_case.id", ondelete="CASCADE"), primary_key=True
    )
    cpr: Mapped[str] = mapped_column(String(10), primary_key=True)
    cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    # One person can be party in two roles (primary party and beneficiary).
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    __table_args__ = (Index("ix_case_party_cpr", "cpr"),)


class AppointmentRow(Freshness, Base):
    __tablename__ = "appointment"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(UUID)
    patient_cpr: Mapped[str] = mapped_column(String(10), index=True)
    patient_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    performer_sor: Mapped[str] = mapped_column(String(20))
    performer_name: Mapped[str] = mapped_column(String(200))
    location_sor: Mapped[str | None] = mapped_column(String(20))
    location_name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    practice_setting_code: Mapped[str | None] = mapped_column(String(20))
    facility_type_code: Mapped[str | None] = mapped_column(String(20))
    episode_label: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    stage: Mapped[str | None] = mapped_column(String(12))
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    requester_sor: Mapped[str | None] = mapped_column(String(20))
    # The registry's meta.lastUpdated: when the region last delivered the document.
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('booked','held','cancelled','moved')", name="status"),
    )


class InvolvementRow(Base):
    """That a unit is involved in a child's course, and what tells us so. The target group
    (R1) is decided from these rows."""

    __tablename__ = "involvement"

    child_cpr: Mapped[str] = mapped_column(String(10), primary_key=True)
    child_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    unit_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(String(40))


class PopulationRunRow(Base):
    """Which synthetic population the database holds, so a reader can tell what it sees."""

    __tablename__ = "population_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seed: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    cpr_set_hash: Mapped[str] = mapped_column(String(64))
    stats: Mapped[dict[str, object]] = mapped_column(JSONB)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QuarantineRow(Base):
    """A record that broke its source's rules: kept whole, with the reason, never dropped.
    The same payload seen again only bumps `last_seen_at` and `times_seen`."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(20))
    record_key: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(String(100))
    payload_hash: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    run_id: Mapped[int] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("source", "record_key", "payload_hash"),)


class IngestRunRow(Base):
    """One pass over one source. A run left `running` by a killed process is resumed from
    its cursor by the next run of the same source."""

    __tablename__ = "ingest_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(20), index=True)
    mode: Mapped[str] = mapped_column(String(12))
    since: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    cursor: Mapped[str | None] = mapped_column(Text)
    high_water_mark: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read: Mapped[int] = mapped_column(Integer, default=0)
    upserted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("mode IN ('full','incremental')", name="mode"),
        CheckConstraint("status IN ('running','completed','failed')", name="status"),
    )


class IngestCheckpointRow(Base):
    """Where the next incremental pass over a source starts."""

    __tablename__ = "ingest_checkpoint"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    high_water_mark: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessEventRow(Base):
    """The access log: one row per access decision and per read of a child's data, written
    in the same transaction as the read, before the data leave. Append-only (a trigger
    refuses UPDATE, DELETE and TRUNCATE, except the sequencer's one-time sealing).

    `row_hash` is the SHA-256 of the row's canonical content, set when it is written. The
    sequencer later gives sealed rows a `seq` in one order and chains them:
    `chain_hash = SHA-256(prev_hash || row_hash)`; see `paatvaers.access.audit`.
    """

    __tablename__ = "access_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    username: Mapped[str] = mapped_column(String(100))
    employee_function: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[uuid.UUID] = mapped_column(UUID)
    child_cpr: Mapped[str | None] = mapped_column(String(10))
    child_cpr_synthetic: Mapped[bool | None] = mapped_column(Boolean)
    data_flow: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(6))
    rules: Mapped[list[str]] = mapped_column(JSONB)
    legal_reference: Mapped[str | None] = mapped_column(Text)
    record_ids: Mapped[list[str]] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("action IN ('decide','read','search')", name="action"),
        CheckConstraint("decision IN ('permit','deny')", name="decision"),
        Index("ix_access_event_child_recorded", "child_cpr", "recorded_at"),
        Index("ix_access_event_unsealed", "id", postgresql_where="seq IS NULL"),
    )


class MedcomEndpointRow(Base):
    """The address book's MedCom side (R13): whether a unit can receive MedCom messages, and
    how they reach it. A unit without its own MedCom system (most family departments) is
    served by the platform's web client: its messages arrive here and are read on the
    platform's pages."""

    __tablename__ = "medcom_endpoint"

    unit_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    # The unit's SOR code and GLN as MedCom knows them (for health units the same as on
    # `org_unit`; municipal units get theirs when registered here).
    sor: Mapped[str] = mapped_column(String(20))
    gln: Mapped[str] = mapped_column(String(13), unique=True)
    # 'web': the platform's client; 'vans': a mailbox on the VANS network; 'http': a FHIR
    # endpoint that takes messages by POST.
    transport: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(Text)  # mailbox name or URL; None for 'web'
    receives_carecommunication: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("transport IN ('web','vans','http')", name="transport"),)


class MedcomMessageRow(Base):
    """Every MedCom message sent or received, once per direction: `message_id` is
    MessageHeader.id, the key MedCom's duplicate rule is about, kept for as long as the
    message is kept. A message between two of our own web-client units is here twice: sent
    by one, received by the other.

    Outgoing messages carry their delivery state (`delivery`); incoming ones the outcome of
    the acknowledgement we answered with (`ack_outcome`), so that a duplicate gets the same
    answer again."""

    __tablename__ = "medcom_message"

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    thread_id: Mapped[str | None] = mapped_column(String(80), index=True)
    acknowledges: Mapped[str | None] = mapped_column(String(64), index=True)
    sender_gln: Mapped[str] = mapped_column(String(13))
    receiver_gln: Mapped[str] = mapped_column(String(13), index=True)
    child_cpr: Mapped[str | None] = mapped_column(String(10))
    child_cpr_synthetic: Mapped[bool | None] = mapped_column(Boolean)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # SHA-256 of the message without its envelope fields (Bundle.id, Bundle.timestamp), so a
    # resend of the same message matches and a changed message under a known id does not.
    content_hash: Mapped[str] = mapped_column(String(64))
    bundle: Mapped[dict[str, object]] = mapped_column(JSONB)
    sent_by_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    delivery: Mapped[str | None] = mapped_column(String(12))
    delivery_note: Mapped[str | None] = mapped_column(Text)
    ack_outcome: Mapped[str | None] = mapped_column(String(16))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("direction IN ('in','out')", name="direction"),
        CheckConstraint("kind IN ('carecommunication','acknowledgement')", name="kind"),
        CheckConstraint(
            "delivery IS NULL OR delivery IN ('queued','sent','acknowledged','failed')",
            name="delivery",
        ),
        CheckConstraint(
            "ack_outcome IS NULL OR ack_outcome IN ('ok','transient-error','fatal-error')",
            name="ack_outcome",
        ),
    )


class MedcomOutboxRow(Base):
    """What the worker must still transmit. Written in the same transaction as the message,
    so a message is never stored without being sent, nor sent without being stored.

    `attempts` counts transmissions. A row is `pending` until transmitted, then, for a
    message that expects an acknowledgement, `awaiting_ack` until it arrives or `due_at`
    passes (then `pending` again for a resend, with a new Bundle.id); `done` or `failed`
    ends it."""

    __tablename__ = "medcom_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(3), default="out")  # only sent ones
    state: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # transmissions made
    transport_failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row
    bundle_id: Mapped[str | None] = mapped_column(String(64))  # of the last transmission
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("state IN ('pending','awaiting_ack','done','failed')", name="state"),
        CheckConstraint("direction = 'out'", name="direction"),
        ForeignKeyConstraint(
            ["message_id", "direction"], ["medcom_message.message_id", "medcom_message.direction"]
        ),
        Index(
            "ix_medcom_outbox_due", "due_at", postgresql_where="state IN ('pending','awaiting_ack')"
        ),
    )


class MedcomThreadRow(Base):
    """A conversation (Communication.identifier) as one of our units sees it; two of our
    units writing to each other each have their own."""

    __tablename__ = "medcom_thread"

    thread_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, index=True)  # ours
    counterpart_gln: Mapped[str] = mapped_column(String(13))
    child_cpr: Mapped[str] = mapped_column(String(10))
    child_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    topic: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(60))
    assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    latest_message_id: Mapped[str] = mapped_column(String(64))


class MedcomThreadReadRow(Base):
    """How far a user has read a thread: a message received (stored) after `read_at` is
    unread, whatever time its sender gave it."""

    __tablename__ = "medcom_thread_read"

    thread_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MedcomQuarantineRow(Base):
    """A received file that could not be read as a MedCom message at all (no MessageHeader
    to answer): kept whole with the reason, never dropped."""

    __tablename__ = "medcom_quarantine"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    origin: Mapped[str] = mapped_column(Text)  # the mailbox file or the HTTP peer
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(Text)


class QualitySnapshotRow(Base):
    """One figure of the data-quality follow-up (R12, R13, R15) on one day: the daily
    snapshots that trends are drawn from. Aggregates only, never a child. Counts are stored as
    computed and suppressed when shown (`paatvaers.quality.suppression`). Taking the day's
    snapshot again replaces that day's figures."""

    __tablename__ = "quality_snapshot"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    section: Mapped[str] = mapped_column(String(30), primary_key=True)
    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float] = mapped_column(Double)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # A trend reads one figure over many days.
        Index("ix_quality_snapshot_series", "section", "subject", "metric", "day"),
    )


# -- cross-disciplinary meetings (migration 0007) ------------------------------------------------


class MeetingRow(Base):
    """A cross-disciplinary meeting about a child (issue #7), as its convenor called it. The
    exchange it allows is decided by the access engine (data flow `meeting`) against the
    meeting's participants and its window, which opens at the invitation and closes at
    `closes_at`."""

    __tablename__ = "meeting"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    child_cpr: Mapped[str] = mapped_column(String(10), index=True)
    child_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    convenor_user_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    convenor_unit_id: Mapped[uuid.UUID] = mapped_column(UUID)
    place: Mapped[str] = mapped_column(Text)
    agenda: Mapped[str] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)
    minutes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # §49a allows one follow-up meeting: a follow-up names the meeting it follows.
    follow_up_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meeting.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MeetingTimeRow(Base):
    """A time the convenor proposes for the meeting."""

    __tablename__ = "meeting_time"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MeetingParticipantRow(Base):
    """One participant: a unit (health units are invited by MedCom), a named professional
    (invited in the platform), or a family member (invited by the convenor, outside the
    platform). `answer` is theirs: accepted, declined, or another time proposed."""

    __tablename__ = "meeting_participant"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # the order shown
    kind: Mapped[str] = mapped_column(String(12))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID, index=True)
    staff_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID, index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    # MedCom: the invitation's thread (Communication.identifier) and the GLN answers come from.
    thread_id: Mapped[str | None] = mapped_column(String(80), index=True)
    gln: Mapped[str | None] = mapped_column(String(13))
    answer: Mapped[str] = mapped_column(String(16))
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answer_message_id: Mapped[str | None] = mapped_column(String(64))
    # A platform invitation counted in the e-mail digest (notices/digest.py): counted once.
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("kind IN ('convenor','professional','unit','family')", name="kind"),
        CheckConstraint("channel IN ('platform','medcom','none')", name="channel"),
        CheckConstraint("answer IN ('pending','accepted','declined','other_time')", name="answer"),
    )


# -- involvement notices (migration 0008) -------------------------------------------------------


class InvolvementChangeRow(Base):
    """A unit newly involved with a child, found when the involvement table was rebuilt and
    written in the same transaction: the transactional outbox of involvement notices, so a
    change is never lost and nothing is announced that did not happen. The notice job marks
    it processed in the same transaction as the notices it produced."""

    __tablename__ = "involvement_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    child_cpr: Mapped[str] = mapped_column(String(10))
    child_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    unit_id: Mapped[uuid.UUID] = mapped_column(UUID)
    kind: Mapped[str] = mapped_column(String(20))
    since: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(String(40))
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the job may (next) take it: a change whose recipients could not be decided (the
    # consent service did not answer) waits and is tried again, never dropped.
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_involvement_change_due", "due_at", postgresql_where="processed_at IS NULL"),
    )


class NoticeSubscriptionRow(Base):
    """A staff user who opted in to involvement notices, and whether to an e-mail digest."""

    __tablename__ = "notice_subscription"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    email_digest: Mapped[bool] = mapped_column(Boolean, server_default=false())
    subscribed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NoticeRow(Base):
    """One notice to one user about one child: the changes found within the grouping window
    are its items. It holds references, not the child's data: what it shows is read (and
    logged) when it is shown."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID)
    child_cpr: Mapped[str] = mapped_column(String(10))
    child_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # its latest item
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_notice_user_unread", "user_id", "child_cpr", postgresql_where="read_at IS NULL"),
    )


class NoticeItemRow(Base):
    """That a notice tells of a change, and the data flow that lets its user see it."""

    __tablename__ = "notice_item"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True
    )
    change_id: Mapped[int] = mapped_column(
        ForeignKey("involvement_change.id", ondelete="CASCADE"), primary_key=True
    )
    data_flow: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- the family's e-mail notices (migration 0009) ------------------------------------------------


class FamilyNoticeSubscriptionRow(Base):
    """A citizen who asked for an e-mail when a place that has not looked at their child
    before does (docs/family.md). `checked_up_to` is the last access-log row id the notice job
    has looked at for them: rows after it are new."""

    __tablename__ = "family_notice_subscription"

    citizen_cpr: Mapped[str] = mapped_column(String(10), primary_key=True)
    citizen_cpr_synthetic: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[str] = mapped_column(String(200))
    subscribed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checked_up_to: Mapped[int] = mapped_column(BigInteger)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
