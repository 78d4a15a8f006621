"""Tests for the attachment rules: allowed types checked against the bytes, and the size limit."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from paatvaers.medcom.attachments import (
    MAX_ENCODED_ATTACHMENT_BYTES,
    MAX_MESSAGE_BYTES,
    RECEIVABLE_CONTENT_TYPES,
    SENDABLE_CONTENT_TYPES,
    check_sendable,
    check_total_size,
    decode,
    encoded_size,
    sniff_content_type,
)
from paatvaers.medcom.carecommunication import new_message
from paatvaers.medcom.errors import AttachmentRejected
from paatvaers.medcom.model import AttachmentFile, Party, Patient, Practitioner
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.medcom.serialisation import from_xml

SAMPLES = {
    "application/pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/jpeg": b"\xff\xd8\xff\xdb\x00\x43\x00",
    "image/gif": b"GIF87a\x01\x00\x01\x00",
}
# The ValueSet medcom-core-attachmentMimeTypes 1.8.1 as published in Terminology 2.0.1.
VALUESET = frozenset(
    {"application/pdf", "image/gif", "image/jpeg", "image/png", "image/tiff", "image/bmp"}
)


@pytest.mark.parametrize(("content_type", "data"), SAMPLES.items())
def test_pdf_png_jpeg_and_gif_are_accepted(content_type: str, data: bytes) -> None:
    file = AttachmentFile("Bilag", content_type, data)
    assert sniff_content_type(file.data) == content_type


def test_what_we_send_is_what_the_guidelines_allow_within_the_profiles_valueset() -> None:
    assert set(SAMPLES) == SENDABLE_CONTENT_TYPES
    assert RECEIVABLE_CONTENT_TYPES == VALUESET


@pytest.mark.parametrize(
    ("content_type", "data", "match"),
    [
        ("image/png", SAMPLES["image/jpeg"], "declared image/png but the bytes are image/jpeg"),
        ("application/pdf", b"MZ\x90\x00 an executable", "no known file type"),
        ("image/tiff", b"II*\x00rest", "not allowed"),
        ("text/plain", b"hello", "not allowed"),
        ("application/pdf", b"", "empty"),
    ],
)
def test_wrong_or_unknown_content_is_refused(content_type: str, data: bytes, match: str) -> None:
    with pytest.raises(AttachmentRejected, match=match):
        AttachmentFile("Bilag", content_type, data)


def test_an_attachment_needs_a_title() -> None:
    with pytest.raises(AttachmentRejected, match="title"):
        check_sendable("  ", "application/pdf", SAMPLES["application/pdf"])


def test_the_size_limit_counts_base64() -> None:
    assert MAX_MESSAGE_BYTES == 50_000_000
    largest = MAX_ENCODED_ATTACHMENT_BYTES // 4 * 3
    assert encoded_size(bytes(largest)) <= MAX_ENCODED_ATTACHMENT_BYTES
    check_total_size([bytes(largest)])
    with pytest.raises(AttachmentRejected, match="at most"):
        check_total_size([bytes(largest + 1)])
    with pytest.raises(AttachmentRejected, match="at most"):
        AttachmentFile("Scanning", "application/pdf", b"%PDF-" + bytes(largest))


def test_encoded_size_is_the_length_of_base64() -> None:
    for length in range(10):
        assert encoded_size(bytes(length)) == len(base64.b64encode(bytes(length)))


def test_attachments_that_fit_alone_may_not_fit_together(
    municipality: Party, child_psychiatry: Party, social_worker: Practitioner, child: Patient
) -> None:
    # Just over half the room each, once base64-encoded.
    half = AttachmentFile(
        "Del", "application/pdf", b"%PDF-" + bytes(MAX_ENCODED_ATTACHMENT_BYTES * 3 // 8)
    )
    with pytest.raises(AttachmentRejected, match="at most"):
        new_message(
            sender=municipality,
            author=social_worker,
            receiver=child_psychiatry,
            patient=child,
            text="To store filer",
            attachments=[half, half],
        )


def test_base64_with_line_breaks_is_read_and_garbage_refused() -> None:
    assert decode("JVBE\nRi0x\r\nLjQ=") == b"%PDF-1.4"
    with pytest.raises(AttachmentRejected, match="base64"):
        decode("not base64!")


def test_a_touchstone_example_declares_png_for_jpeg_bytes(
    send_example: Callable[[str], Path],
) -> None:
    """MedCom's send example S-B declares image/png for a JPEG: the reader keeps what was
    declared, and the bytes tell the truth."""
    message = read_carecommunication(from_xml(send_example("S-B-new").read_bytes()))
    (attachment,) = message.attachments
    assert attachment.content_type == "image/png"
    assert attachment.data is not None
    assert sniff_content_type(attachment.data) == "image/jpeg"
