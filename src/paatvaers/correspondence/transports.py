"""How messages leave and arrive: a mailbox directory (VANS-style envelopes, one file per
transmission) and plain HTTP (FHIR messaging's `$process-message`).

A transport either takes a message whole or raises `TransportFailed`; the outbox then tries
again later. Taking a message twice is harmless: receivers de-duplicate on MessageHeader.id.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx2

from paatvaers.correspondence.envelope import Envelope, wrap

DONE = "behandlet"  # the mailbox's folder of files already received
_SUFFIX = ".xml"


class TransportFailed(Exception):
    """The message was not handed over; it may be tried again."""


class Transport(Protocol):
    def send(self, envelope: Envelope) -> None: ...


@dataclass(frozen=True, slots=True)
class Mailboxes:
    """A directory of mailboxes, one folder per GLN, as a VANS provider keeps them. A file
    appears whole or not at all (written aside, flushed, then renamed into place)."""

    root: Path

    def folder(self, gln: str) -> Path:
        if not gln.isdigit():  # a GLN names the folder: never a path of its own
            raise ValueError(f"not a GLN: {gln!r}")
        return self.root / gln

    def send(self, envelope: Envelope) -> None:
        folder = self.folder(envelope.receiver_gln)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomically(folder / f"{envelope.envelope_id}{_SUFFIX}", wrap(envelope))
        except OSError as exc:
            raise TransportFailed(f"mailbox {envelope.receiver_gln}: {exc}") from exc

    def waiting(self, gln: str) -> Iterator[Path]:
        """The files in a mailbox not yet received, oldest first."""
        folder = self.folder(gln)
        if not folder.is_dir():
            return
        files = [p for p in folder.iterdir() if p.suffix == _SUFFIX and p.is_file()]
        yield from sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def mark_received(self, path: Path) -> None:
        """Move a file out of the way once what it held is committed. If the process dies
        before this, the file is received again, and the duplicate rule answers it."""
        done = path.parent / DONE
        done.mkdir(exist_ok=True)
        with suppress(FileNotFoundError):  # another worker moved it first
            path.replace(done / path.name)


@dataclass(frozen=True, slots=True)
class HttpEndpoint:
    """A receiver's FHIR messaging endpoint: the Bundle is POSTed to `<url>/$process-message`
    with a bearer token. 200 and 202 mean taken; anything else, or no answer, is a failure
    to retry."""

    url: str
    token: str | None = None
    timeout: float = 10.0

    def send(self, envelope: Envelope) -> None:
        headers = {"Content-Type": envelope.media_type}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = httpx2.post(
                f"{self.url.rstrip('/')}/$process-message",
                content=envelope.data,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx2.HTTPError as exc:
            raise TransportFailed(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code not in (200, 202):
            raise TransportFailed(f"{self.url}: HTTP {response.status_code}")


def _write_atomically(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.part")
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
