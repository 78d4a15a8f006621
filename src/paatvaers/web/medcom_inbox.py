"""The platform's FHIR messaging endpoint: MedCom messages delivered over HTTP
(`POST /medcom/$process-message`), the HTTP counterpart of the mailboxes the worker reads.

A sender authenticates with the bearer token it was given (production puts mutual TLS in
front as well). The message is received as the worker receives a mailbox file (stored,
threaded, answered through the outbox) in one transaction, before the answer: 202 Accepted
once it is committed; the acknowledgement follows asynchronously, as FHIR messaging has it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from paatvaers.correspondence.envelope import JSON, XML
from paatvaers.correspondence.inbox import Receipt, receive
from paatvaers.store.db import transaction

router = APIRouter(tags=["medcom"])
MAX_BYTES = 100 * 1024 * 1024  # MedCom: at most 100 MB per message


@router.post("/medcom/$process-message", status_code=202)
async def process_message(
    request: Request,
    content_type: Annotated[str, Header()] = JSON,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    expected = request.app.state.settings.medcom_http_token
    presented = (authorization or "").removeprefix("Bearer ").strip()
    if not expected or not secrets.compare_digest(presented, expected):
        return JSONResponse({"detail": "unauthorised"}, status_code=401)
    media_type = XML if content_type.split(";")[0].strip() == XML else JSON
    data = await request.body()
    if len(data) > MAX_BYTES:
        return JSONResponse({"detail": "message too large"}, status_code=413)
    origin = f"http:{request.client.host if request.client else 'unknown'}"
    receipt = await run_in_threadpool(
        _receive,
        request.app.state.session_factory,
        data,
        media_type,
        origin,
        request.app.state.settings.sources_are_synthetic,
    )
    # Unreadable: quarantined here, and the sender told at once (there is nothing to answer).
    status = 400 if receipt.outcome == "quarantined" else 202
    return JSONResponse({"outcome": receipt.outcome, "note": receipt.note}, status_code=status)


def _receive(
    factory: sessionmaker[Session], data: bytes, media_type: str, origin: str, synthetic: bool
) -> Receipt:
    with transaction(factory) as session:
        return receive(session, data, media_type, origin, datetime.now(UTC), synthetic=synthetic)
