"""The session cookie, encrypted: Starlette's SessionMiddleware with its signer replaced by
AES-GCM, which authenticates the cookie as the signer did and also keeps it unreadable.

The session holds the child in context (a CPR number) and the principal's restrictions; a
signed-only cookie shows them to anyone who sees the cookie (a shared computer's browser
profile, a proxy log, a browser extension). Encrypted, the cookie says nothing. The key is
derived from the session secret, so PAATVAERS_SESSION_SECRET stays the one setting.
"""

from __future__ import annotations

import base64
import os
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous.exc import BadSignature
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

_NONCE_BYTES = 12  # AES-GCM's standard nonce; random per cookie written
_CONTEXT = b"paatvaers session cookie v1"  # binds the derived key to this use


class CookieCipher:
    """The signer interface SessionMiddleware uses (`sign`, `unsign`), encrypting."""

    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_CONTEXT).derive(
            secret.encode()
        )
        self._aead = AESGCM(key)

    def sign(self, value: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, value, _CONTEXT))

    def unsign(self, value: bytes, max_age: int | None = None) -> bytes:
        """The plain cookie; BadSignature (a fresh session) when it was not ours or was
        changed. `max_age` is not used: the idle time-out is enforced by the app."""
        del max_age
        try:
            raw = base64.urlsafe_b64decode(value)
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _CONTEXT)
        except (ValueError, InvalidTag) as exc:
            raise BadSignature("not a session cookie of ours") from exc


class EncryptedSessionMiddleware(SessionMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        secret_key: str,
        session_cookie: str,
        max_age: int | None,
        same_site: Literal["lax", "strict", "none"],
        https_only: bool,
    ) -> None:
        super().__init__(
            app,
            secret_key,
            session_cookie=session_cookie,
            max_age=max_age,
            same_site=same_site,
            https_only=https_only,
        )
        # SessionMiddleware calls only `sign` and `unsign` on its signer.
        self.signer = CookieCipher(secret_key)  # type: ignore[assignment]
