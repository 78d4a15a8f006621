"""`paatvaers medcom receive FILE...` on MedCom's published examples: every message is
answered with an acknowledgement, printed; an acknowledgement is never answered."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from paatvaers.cli import app
from paatvaers.correspondence import address_book
from paatvaers.domain.identifiers import Gln, Sor
from paatvaers.store.db import make_engine, session_factory, transaction
from paatvaers.store.tables import MedcomMessageRow, MedcomOutboxRow, OrgUnitRow

IG = Path(__file__).parents[4] / "shared/vectors/medcomfhir-website/ig"
NEW_MESSAGE = IG / "carecommunication/5.0.2/Bundle-0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c.json"
ACKNOWLEDGEMENT = IG / "acknowledgement/2.0.3/Bundle-a8c041b8-c65a-4fde-a90f-962076918834.json"
RECEIVER_GLN = "5790001348120"  # Plejecenter Herlev, the example's receiver
RECEIVER_SOR = "953741000016009"
runner = CliRunner()


def _receive(database_url: str, *files: Path) -> str:
    result = runner.invoke(
        app, ["medcom", "receive", *map(str, files)], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    return result.output


def _acknowledgement(output: str) -> dict[str, object]:
    start = output.index("{")
    ack: dict[str, object] = json.loads(output[start:])
    return ack


def _response_code(ack: dict[str, object]) -> str:
    header = ack["entry"][0]["resource"]  # type: ignore[index]
    return str(header["response"]["code"])


def _serve_receiver(database_url: str) -> None:
    """Put the example's receiver in the address book as a web-client unit of ours."""
    engine = make_engine(database_url)
    try:
        with transaction(session_factory(engine)) as session:
            unit_id = uuid.uuid4()
            session.add(
                OrgUnitRow(
                    id=unit_id,
                    kind="child_family",
                    name="Plejecenter Herlev",
                    source="test",
                    confirmed_at=datetime.now(UTC),
                )
            )
            session.flush()
            address_book.register(
                session, unit_id, Sor(RECEIVER_SOR), Gln(RECEIVER_GLN), "web", datetime.now(UTC)
            )
    finally:
        engine.dispose()


def test_a_message_for_a_unit_we_do_not_serve_is_answered_fatal_error(
    fresh_database_url: str,
) -> None:
    output = _receive(fresh_database_url, NEW_MESSAGE)
    assert "rejected" in output
    ack = _acknowledgement(output)
    assert _response_code(ack) == "fatal-error"
    assert "MSG_Receiver_Identifier_UNKNOWN" in json.dumps(ack)


def test_a_message_for_our_unit_is_answered_ok_and_queued_for_the_sender(
    fresh_database_url: str,
) -> None:
    _serve_receiver(fresh_database_url)
    output = _receive(fresh_database_url, NEW_MESSAGE)
    assert re.search(r": ok: modtaget", output)
    assert _response_code(_acknowledgement(output)) == "ok"
    engine = make_engine(fresh_database_url)
    try:
        with session_factory(engine)() as session:
            queued = session.scalars(select(MedcomOutboxRow.message_id)).all()
            ack = session.get_one(MedcomMessageRow, (queued[0], "out"))
    finally:
        engine.dispose()
    assert len(queued) == 1
    assert ack.kind == "acknowledgement"
    assert ack.receiver_gln == "5790000209354"  # back to the sender, Herlev hospital


def test_an_acknowledgement_is_received_and_not_answered(fresh_database_url: str) -> None:
    output = _receive(fresh_database_url, ACKNOWLEDGEMENT)
    assert "acknowledgement" in output
    assert "{" not in output  # no acknowledgement printed: none is sent
