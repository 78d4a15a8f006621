"""An embedded PostgreSQL for the demo and for machines without a server.

pgserver ships PostgreSQL binaries in a wheel, so a fresh machine needs nothing installed.
(As root it runs the server as a system user `pgserver` that it creates.)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or reuse) a server on `data_dir`, yield a SQLAlchemy URL, stop it on exit when
    this call started it."""
    with warnings.catch_warnings():
        # platformdirs warns at pgserver's import when XDG_RUNTIME_DIR is unset (as under root
        # in CI); the fallback it takes is fine for us.
        warnings.simplefilter("ignore")
        import pgserver  # noqa: PLC0415 - imported only when an embedded server is wanted

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir.resolve()), cleanup_mode="stop")
    try:
        yield sqlalchemy_url(server.get_uri())
    finally:
        server.cleanup()


def sqlalchemy_url(libpq_uri: str) -> str:
    """pgserver gives `postgresql://postgres:@/postgres?host=/socket/dir`; name psycopg."""
    parsed = urlparse(libpq_uri)
    host = parse_qs(parsed.query).get("host", [""])[0]
    user = parsed.username or "postgres"
    return f"postgresql+psycopg://{user}@/{parsed.path.lstrip('/')}?host={host}"
