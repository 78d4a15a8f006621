"""The session cookie's cipher: what it writes can be read back only with the same secret,
reveals nothing, and any change to it is refused."""

from __future__ import annotations

import base64

import pytest
from itsdangerous.exc import BadSignature

from paatvaers.web.sessions import CookieCipher

PLAIN = b'{"child": {"cpr": "0101159990", "purpose": "TREAT"}}'


def test_round_trip() -> None:
    cipher = CookieCipher("hemmelig")
    assert cipher.unsign(cipher.sign(PLAIN)) == PLAIN


def test_the_cookie_reveals_nothing_and_differs_each_time() -> None:
    cipher = CookieCipher("hemmelig")
    first, second = cipher.sign(PLAIN), cipher.sign(PLAIN)
    assert first != second  # a fresh nonce per cookie
    decoded = base64.urlsafe_b64decode(first)
    assert b"0101159990" not in decoded and b"cpr" not in decoded


@pytest.mark.parametrize("position", [0, 5, 20, -3])
def test_a_changed_cookie_is_refused(position: int) -> None:
    cipher = CookieCipher("hemmelig")
    raw = bytearray(base64.urlsafe_b64decode(cipher.sign(PLAIN)))
    raw[position] ^= 0x01
    with pytest.raises(BadSignature):
        cipher.unsign(base64.urlsafe_b64encode(bytes(raw)))


def test_another_secret_cannot_read_it() -> None:
    with pytest.raises(BadSignature):
        CookieCipher("en anden").unsign(CookieCipher("hemmelig").sign(PLAIN))


@pytest.mark.parametrize("junk", [b"", b"null", b"not base64 !", b"eyJhIjoxfQ.ZXu.sig"])
def test_junk_is_refused(junk: bytes) -> None:
    with pytest.raises(BadSignature):
        CookieCipher("hemmelig").unsign(junk)
