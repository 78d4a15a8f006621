"""The address book (R13): which units can receive MedCom messages, by which SOR code and
GLN, how messages reach them, and how exchanges with them have gone.

Health units (GP clinics, BUP) have SOR codes and GLNs from SOR and receive in their own
systems (on VANS). Municipal family departments and PPR mostly have no MedCom system; they
are registered here as served by the platform's web client, with the SOR code and GLN the
municipality holds for them (synthetic ones in the demo, marked by their 5798 prefix).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from paatvaers.domain.identifiers import Gln, Sor
from paatvaers.domain.organisations import UnitKind
from paatvaers.medcom.model import Party
from paatvaers.store.tables import MedcomEndpointRow, MedcomMessageRow, OrgUnitRow

WEB_CLIENT_KINDS = (UnitKind.CHILD_FAMILY, UnitKind.PPR)
OWN_SYSTEM_KINDS = (UnitKind.GP, UnitKind.BUP)
_KIND_DIGIT = {UnitKind.CHILD_FAMILY: 1, UnitKind.PPR: 2}


@dataclass(frozen=True, slots=True)
class Capability:
    """One unit's MedCom standing: what the follow-up dashboard (R13) shows."""

    unit_id: uuid.UUID
    unit_name: str
    unit_kind: str
    sor: str
    gln: str
    transport: str
    receives_carecommunication: bool
    acknowledgements_ok: int
    acknowledgements_error: int
    last_successful_exchange: datetime | None


def party(session: Session, unit_id: uuid.UUID) -> Party | None:
    """The unit as a MedCom sender or receiver; None when it is not in the address book."""
    row = session.execute(
        select(OrgUnitRow.name, MedcomEndpointRow.sor, MedcomEndpointRow.gln)
        .join(MedcomEndpointRow, MedcomEndpointRow.unit_id == OrgUnitRow.id)
        .where(OrgUnitRow.id == unit_id)
    ).one_or_none()
    if row is None:
        return None
    return Party(row.name, Sor(row.sor), Gln(row.gln))


def unit_for_gln(session: Session, gln: str) -> uuid.UUID | None:
    return session.scalar(select(MedcomEndpointRow.unit_id).where(MedcomEndpointRow.gln == gln))


def register(
    session: Session,
    unit_id: uuid.UUID,
    sor: Sor,
    gln: Gln,
    transport: str,
    now: datetime,
    address: str | None = None,
) -> None:
    """Add or change a unit's entry."""
    row = session.get(MedcomEndpointRow, unit_id)
    if row is None:
        row = MedcomEndpointRow(unit_id=unit_id)
        session.add(row)
    row.sor, row.gln, row.transport, row.address = sor.value, gln.value, transport, address
    row.receives_carecommunication = True
    row.updated_at = now


def register_known_units(session: Session, now: datetime) -> int:
    """Register every unit not yet in the address book that can take part: health units by
    their SOR code and GLN (on VANS), municipal units as web-client units with a synthetic
    SOR code and GLN derived from the municipality. For the demo and synthetic data only."""
    known = set(session.scalars(select(MedcomEndpointRow.unit_id)))
    added = 0
    kinds = [k.value for k in (*WEB_CLIENT_KINDS, *OWN_SYSTEM_KINDS)]
    for unit in session.scalars(select(OrgUnitRow).where(OrgUnitRow.kind.in_(kinds))):
        if unit.id in known:
            continue
        kind = UnitKind(unit.kind)
        if kind in OWN_SYSTEM_KINDS and unit.sor:
            # No source delivers a BUP unit's GLN (APD-DK names the unit by SOR code only;
            # SOR's EAN numbers are not imported yet): the demo derives one.
            gln = Gln(unit.gln) if unit.gln else synthetic_health_gln(Sor(unit.sor))
            register(session, unit.id, Sor(unit.sor), gln, "vans", now)
        elif kind in WEB_CLIENT_KINDS and unit.municipality_code:
            sor, gln = synthetic_municipal_ids(unit.municipality_code, kind)
            register(session, unit.id, sor, gln, "web", now)
        else:
            continue
        added += 1
    return added


def synthetic_health_gln(sor: Sor) -> Gln:
    """Recognisably synthetic: GLN 57979 + the SOR code's last 7 digits."""
    return Gln.from_body(f"57979{sor.value[-7:]}")


def synthetic_municipal_ids(municipality_code: str, kind: UnitKind) -> tuple[Sor, Gln]:
    """Recognisably synthetic: GLN 5798 + municipality + kind, SOR 98 + the same."""
    digit = _KIND_DIGIT[kind]
    return (
        Sor(f"98{municipality_code:0>4}00000000{digit}"),
        Gln.from_body(f"5798{municipality_code:0>4}000{digit}"),
    )


def capabilities(session: Session) -> list[Capability]:
    """Every unit in the address book, with the acknowledgements it has sent us and the last
    exchange that went well (a message of ours it acknowledged `ok`, or one of its we did)."""
    acks = (
        select(
            MedcomMessageRow.sender_gln.label("gln"),
            func.count().filter(MedcomMessageRow.ack_outcome == "ok").label("ok"),
            func.count().filter(MedcomMessageRow.ack_outcome != "ok").label("error"),
        )
        .where(MedcomMessageRow.kind == "acknowledgement", MedcomMessageRow.direction == "in")
        .group_by(MedcomMessageRow.sender_gln)
        .subquery()
    )
    last_ok = (
        select(
            case(
                (MedcomMessageRow.direction == "out", MedcomMessageRow.receiver_gln),
                else_=MedcomMessageRow.sender_gln,
            ).label("gln"),
            func.max(
                func.coalesce(MedcomMessageRow.acknowledged_at, MedcomMessageRow.stored_at)
            ).label("at"),
        )
        .where(MedcomMessageRow.kind == "carecommunication", MedcomMessageRow.ack_outcome == "ok")
        .group_by("gln")
        .subquery()
    )
    rows = session.execute(
        select(
            MedcomEndpointRow,
            OrgUnitRow.name,
            OrgUnitRow.kind,
            acks.c.ok,
            acks.c.error,
            last_ok.c.at,
        )
        .join(OrgUnitRow, OrgUnitRow.id == MedcomEndpointRow.unit_id)
        .outerjoin(acks, acks.c.gln == MedcomEndpointRow.gln)
        .outerjoin(last_ok, last_ok.c.gln == MedcomEndpointRow.gln)
        .order_by(OrgUnitRow.name)
    )
    return [
        Capability(
            unit_id=endpoint.unit_id,
            unit_name=name,
            unit_kind=kind,
            sor=endpoint.sor,
            gln=endpoint.gln,
            transport=endpoint.transport,
            receives_carecommunication=endpoint.receives_carecommunication,
            acknowledgements_ok=ok or 0,
            acknowledgements_error=error or 0,
            last_successful_exchange=at,
        )
        for endpoint, name, kind, ok, error, at in rows
    ]
