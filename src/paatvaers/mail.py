"""E-mail out, for the few messages the platform sends by e-mail: counts and links only,
never a child's data (e-mail is not a secure channel). One connection setting,
PAATVAERS_SMTP_URL; without it nothing is sent."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

Connect = Callable[[str, int], smtplib.SMTP]  # smtplib.SMTP, or a test's stand-in


def smtp_connection(url: str, connect: Connect = smtplib.SMTP) -> smtplib.SMTP:
    """A connection to `smtp://host:port` or `smtp+starttls://user:password@host:port`."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtp+starttls") or not parts.hostname:
        raise ValueError("PAATVAERS_SMTP_URL must be smtp://host:port or smtp+starttls://…")
    smtp = connect(parts.hostname, parts.port or 25)
    if parts.scheme == "smtp+starttls":
        smtp.starttls()
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp
