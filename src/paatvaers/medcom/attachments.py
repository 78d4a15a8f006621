"""Rules for attachments: which file types, checked against the bytes, and how large.

Types: MedCom's clinical guidelines for CareCommunication (§8 Attachments,
medcomdk/dk-medcom-carecommunication `docs/assets/documents/Clinical-guidelines-ENG.md`) allow
PDF, PNG, JPEG and GIF, and we send only those. The profile's ValueSet
(medcom-core-attachmentMimeTypes 1.8.1) also lists TIFF and BMP, so those are accepted on
receipt.

Size: the same guidelines set no limit per attachment or on their number, but 50 MB for the
whole message including attachments, as the VANS network carries it. The attachments travel
base64-encoded (4 bytes for every 3), so their encoded total must leave room for the rest.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Final

from paatvaers.medcom.errors import AttachmentRejected

# Magic numbers at the start of each file type we send.
_SIGNATURES: Final[dict[str, tuple[bytes, ...]]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
_RECEIVE_ONLY_SIGNATURES: Final[dict[str, tuple[bytes, ...]]] = {
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/bmp": (b"BM",),
}

SENDABLE_CONTENT_TYPES: Final = frozenset(_SIGNATURES)
RECEIVABLE_CONTENT_TYPES: Final = SENDABLE_CONTENT_TYPES | frozenset(_RECEIVE_ONLY_SIGNATURES)

MAX_MESSAGE_BYTES: Final = 50_000_000  # "50 MB", read as decimal megabytes to stay on the safe side
# Room kept for everything but the attachments: texts, narratives, XML's longer syntax.
MESSAGE_HEADROOM_BYTES: Final = 2_000_000
MAX_ENCODED_ATTACHMENT_BYTES: Final = MAX_MESSAGE_BYTES - MESSAGE_HEADROOM_BYTES


def encoded_size(data: bytes) -> int:
    """Length of `data` in base64, padding included."""
    return 4 * ((len(data) + 2) // 3)


def sniff_content_type(data: bytes) -> str | None:
    """The content type whose magic number `data` starts with, or None."""
    for content_type, signatures in (_SIGNATURES | _RECEIVE_ONLY_SIGNATURES).items():
        if data.startswith(signatures):
            return content_type
    return None


def check_sendable(title: str, content_type: str, data: bytes) -> None:
    """Raise AttachmentRejected unless this file may be attached to a message we send."""
    if not title.strip():
        raise AttachmentRejected("an attachment needs a title (Attachment.title is required)")
    if content_type not in SENDABLE_CONTENT_TYPES:
        allowed = ", ".join(sorted(SENDABLE_CONTENT_TYPES))
        raise AttachmentRejected(f"{title!r}: type {content_type!r} is not allowed ({allowed})")
    if not data:
        raise AttachmentRejected(f"{title!r}: the file is empty")
    actual = sniff_content_type(data)
    if actual != content_type:
        found = actual or "no known file type"
        raise AttachmentRejected(f"{title!r}: declared {content_type} but the bytes are {found}")
    check_total_size([data])


def check_total_size(contents: Iterable[bytes]) -> None:
    """Raise AttachmentRejected if these attachments, base64-encoded, leave no room in a
    message under MedCom's 50 MB limit."""
    total = sum(encoded_size(data) for data in contents)
    if total > MAX_ENCODED_ATTACHMENT_BYTES:
        raise AttachmentRejected(
            f"attachments take {total} bytes encoded; a message may carry at most "
            f"{MAX_ENCODED_ATTACHMENT_BYTES} (MedCom's limit is {MAX_MESSAGE_BYTES} in all)"
        )


def decode(data_base64: str) -> bytes:
    """The bytes of an Attachment.data value; AttachmentRejected if it is not base64.
    Whitespace is dropped first: XML senders sometimes wrap long base64 lines."""
    try:
        return base64.b64decode("".join(data_base64.split()), validate=True)
    except ValueError as exc:
        raise AttachmentRejected(f"attachment data is not valid base64: {exc}") from exc


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
