"""MedCom over HTTP: the platform's `POST /medcom/$process-message` receives (bearer token,
stored and answered as a mailbox file would be), and the outbox delivers to a receiver's HTTP
endpoint, retrying when it refuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.support.browser import serving
from tests.support.medcom import GP_GLN, Correspondence, running_correspondence

from paatvaers.correspondence import address_book
from paatvaers.correspondence.worker import Worker
from paatvaers.domain.identifiers import Sor
from paatvaers.domain.organisations import UnitKind
from paatvaers.settings import Settings
from paatvaers.store.tables import MedcomMessageRow, MedcomOutboxRow, MedcomQuarantineRow
from paatvaers.web import create_app

TOKEN = "delt-hemmelighed-til-test"


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[Correspondence]:
    with running_correspondence(fresh_database_url, tmp_path / "postkasser") as world:
        yield world


@pytest.fixture
def platform(world: Correspondence, fresh_database_url: str, tmp_path: Path) -> Iterator[str]:
    settings = Settings(
        database_url=fresh_database_url,
        data_dir=tmp_path,
        consent_url=world.access.consent_url,
        medcom_http_token=TOKEN,
    )
    with serving(create_app(settings, world.access.engine)) as base_url:
        yield base_url


def _post(base_url: str, body: bytes, token: str = TOKEN) -> httpx2.Response:
    return httpx2.post(
        f"{base_url}/medcom/$process-message",
        content=body,
        headers={"Content-Type": "application/fhir+json", "Authorization": f"Bearer {token}"},
    )


def test_a_message_posted_with_the_token_is_received_and_answered(
    world: Correspondence, platform: str
) -> None:
    message = world.gp.write(world.family, world.patient, "Sendt over HTTP.")
    for path in world.mailboxes.waiting(world.family.gln.value):
        path.unlink()  # only the HTTP copy reaches the platform
    response = _post(platform, world.gp.sent[message.message_id].data)
    assert response.status_code == 202
    assert response.json()["outcome"] == "ok"
    world.pump()
    assert [a.acknowledged_message_id for a in world.gp.acknowledgements] == [message.message_id]


def test_without_the_token_nothing_is_received(world: Correspondence, platform: str) -> None:
    message = world.gp.write(world.family, world.patient, "Uden adgang.")
    response = _post(platform, world.gp.sent[message.message_id].data, token="forkert")
    assert response.status_code == 401
    with world.factory() as session:
        assert session.get(MedcomMessageRow, (message.message_id, "in")) is None


def test_an_unreadable_message_is_refused_and_quarantined(
    world: Correspondence, platform: str
) -> None:
    response = _post(platform, b'{"resourceType": "Patient"}')
    assert response.status_code == 400
    with world.factory() as session:
        reasons = session.scalars(select(MedcomQuarantineRow.reason)).all()
    assert len(reasons) == 1
    assert "Bundle" in reasons[0]


class _Receiver:
    """A receiver's FHIR messaging endpoint that records what it is given, and refuses as
    long as `refusing` is set."""

    def __init__(self) -> None:
        self.refusing = True
        self.taken: list[dict[str, Any]] = []

    async def take(self, request: Request) -> Response:
        if self.refusing:
            return Response(status_code=503)
        self.taken.append({"headers": dict(request.headers), "body": await request.body()})
        return Response(status_code=202)


def test_the_outbox_delivers_to_an_http_endpoint_and_retries_a_refusal(
    world: Correspondence,
) -> None:
    receiver = _Receiver()
    app = Starlette(routes=[Route("/fhir/$process-message", receiver.take, methods=["POST"])])
    with serving(app, lifespan="off") as base_url:
        gp = world.access.scenario.units[UnitKind.GP]
        with world.factory() as session, session.begin():
            address_book.register(
                session,
                gp.id,
                Sor(str(gp.sor)),
                GP_GLN,
                "http",
                world.worker.now(),
                address=f"{base_url}/fhir",
            )
        worker = Worker(
            world.factory, world.mailboxes, world.worker.now, synthetic=True, http_token=TOKEN
        )
        with world.factory() as session, session.begin():
            sent = world.writer(session).new(world.child, gp.id, "Over HTTP, tak.")
        worker.once()
        with world.factory() as session:
            row = session.scalars(select(MedcomOutboxRow)).one()
            assert (row.state, row.attempts, row.transport_failures) == ("pending", 0, 1)
            assert "HTTP 503" in str(row.last_error)
        receiver.refusing = False
        with world.factory() as session, session.begin():  # the backoff has passed
            session.scalars(select(MedcomOutboxRow)).one().due_at = world.worker.now()
        worker.once()
    assert len(receiver.taken) == 1
    taken = receiver.taken[0]
    assert taken["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert taken["headers"]["content-type"] == "application/fhir+json"
    assert sent.message_id.encode() in taken["body"]
    with world.factory() as session:
        assert session.get_one(MedcomMessageRow, (sent.message_id, "out")).delivery == "sent"
