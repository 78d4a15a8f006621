"""Correspondence availability (R13): per unit, whether it can send and receive MedCom
messages, how exchanges with it have gone, and where the platform's web client stands in.

The address book (`correspondence.address_book.capabilities`) says who is registered, by
which GLN and transport, and the acknowledgements seen; `medcom_message` adds how many of our
messages to the unit went out and how many failed. Units of the kinds that take part in
correspondence but are not in the address book cannot be written to at all: they are counted
per kind, so the follow-up sees the gap, not only those who made it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from paatvaers.correspondence.address_book import (
    OWN_SYSTEM_KINDS,
    WEB_CLIENT_KINDS,
    capabilities,
)
from paatvaers.quality.metrics import PERFORMER_REGION_CTE

CORRESPONDING_KINDS = tuple(k.value for k in (*WEB_CLIENT_KINDS, *OWN_SYSTEM_KINDS))
WEB_CLIENT = "web"


@dataclass(frozen=True, slots=True)
class UnitAvailability:
    unit_id: uuid.UUID
    name: str
    kind: str
    municipality_code: str | None
    region: str | None
    sor: str
    gln: str
    transport: str  # 'web' (the platform's web client), 'vans', 'http'
    receives: bool
    acknowledgements_ok: int  # acknowledgements the unit sent us, outcome ok
    acknowledgements_error: int
    sent: int  # our CareCommunications to the unit that left the outbox
    failed: int  # of those, given up on (fatal error, or no acknowledgement after resends)
    received: int  # CareCommunications the unit sent us
    last_successful_exchange: datetime | None

    @property
    def web_client(self) -> bool:
        """The platform's web client stands in for a MedCom system of the unit's own."""
        return self.transport == WEB_CLIENT

    @property
    def acknowledgements_seen(self) -> bool:
        return self.acknowledgements_ok + self.acknowledgements_error > 0


@dataclass(frozen=True, slots=True)
class KindAvailability:
    """Units of one kind: in the platform, in the address book, and how they are served."""

    kind: str
    units: int
    in_address_book: int
    receiving: int
    web_client: int
    with_acknowledgements: int
    sent: int
    failed: int


def availability(session: Session) -> tuple[UnitAvailability, ...]:
    """Every unit in the address book, with its exchanges."""
    traffic = {
        r.gln: r
        for r in session.execute(
            text(
                """
                SELECT gln, sum(sent)::bigint AS sent, sum(failed)::bigint AS failed,
                       sum(received)::bigint AS received
                FROM (
                    SELECT receiver_gln AS gln,
                           count(*) FILTER (WHERE delivery IN ('sent', 'acknowledged', 'failed'))
                               AS sent,
                           count(*) FILTER (WHERE delivery = 'failed') AS failed,
                           0 AS received
                    FROM medcom_message
                    WHERE direction = 'out' AND kind = 'carecommunication'
                    GROUP BY receiver_gln
                    UNION ALL
                    SELECT sender_gln, 0, 0, count(*)
                    FROM medcom_message
                    WHERE direction = 'in' AND kind = 'carecommunication'
                    GROUP BY sender_gln
                ) AS exchanges
                GROUP BY gln
                """
            )
        )
    }
    places = _places(session)
    units = []
    for c in capabilities(session):
        exchanged = traffic.get(c.gln)
        municipality_code, region = places.get(c.unit_id, (None, None))
        units.append(
            UnitAvailability(
                unit_id=c.unit_id,
                name=c.unit_name,
                kind=c.unit_kind,
                municipality_code=municipality_code,
                region=region,
                sor=c.sor,
                gln=c.gln,
                transport=c.transport,
                receives=c.receives_carecommunication,
                acknowledgements_ok=c.acknowledgements_ok,
                acknowledgements_error=c.acknowledgements_error,
                sent=int(exchanged.sent) if exchanged else 0,
                failed=int(exchanged.failed) if exchanged else 0,
                received=int(exchanged.received) if exchanged else 0,
                last_successful_exchange=c.last_successful_exchange,
            )
        )
    return tuple(units)


def by_kind(session: Session, units: tuple[UnitAvailability, ...]) -> tuple[KindAvailability, ...]:
    """Per kind of unit: how many the platform knows, and how many can correspond."""
    known = {
        str(kind): int(count)
        for kind, count in session.execute(
            text("SELECT kind, count(*) FROM org_unit WHERE kind = ANY(:kinds) GROUP BY kind"),
            {"kinds": list(CORRESPONDING_KINDS)},
        )
    }
    summary = []
    for kind in CORRESPONDING_KINDS:
        of_kind = [u for u in units if u.kind == kind]
        summary.append(
            KindAvailability(
                kind=kind,
                units=int(known.get(kind, 0)),
                in_address_book=len(of_kind),
                receiving=sum(u.receives for u in of_kind),
                web_client=sum(u.web_client for u in of_kind),
                with_acknowledgements=sum(u.acknowledgements_seen for u in of_kind),
                sent=sum(u.sent for u in of_kind),
                failed=sum(u.failed for u in of_kind),
            )
        )
    return tuple(summary)


def _places(session: Session) -> dict[uuid.UUID, tuple[str | None, str | None]]:
    """Municipality and region of every unit in the address book (a BUP unit's region as
    `metrics` derives it)."""
    rows = session.execute(
        text(
            f"""
            WITH {PERFORMER_REGION_CTE}
            SELECT u.id, u.municipality_code, coalesce(u.region, pr.region) AS region
            FROM medcom_endpoint e
            JOIN org_unit u ON u.id = e.unit_id
            LEFT JOIN performer_region pr ON pr.sor = u.sor
            """  # noqa: S608 - constant fragments, values bound
        )
    )
    return {r.id: (r.municipality_code, r.region) for r in rows}
