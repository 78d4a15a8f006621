"""One typed settings object, built at start-up and passed down; never read at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAATVAERS_", extra="forbid")

    # Without DATABASE_URL an embedded PostgreSQL is started with its data under `data_dir`.
    database_url: str | None = None
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # The national sources. None means the simulator's default address on 127.0.0.1; a
    # deployment sets the real service URLs (and credentials, per source, in its adapter).
    case_index_url: str | None = None
    org_registry_url: str | None = None
    cpr_url: str | None = None
    institutions_url: str | None = None
    appointments_url: str | None = None
    consent_url: str | None = None  # Digitalt Samtykke (asked live on every decision)
    # The access policy file; None means the one shipped in `paatvaers/access/policies/`.
    access_policy_file: Path | None = None
    # Where the access log's chain head is checkpointed, outside the database; None means
    # `<data_dir>/audit-checkpoints.jsonl`.
    audit_checkpoint_file: Path | None = None
    # Whether the people the sources deliver are synthetic (the simulators): sets the
    # `*_synthetic` flag stored beside every CPR number. A deployment sets it to false.
    sources_are_synthetic: bool = True
    # Records per request to a source; also how much work one committed page holds.
    ingest_page_size: int = 500
    # The web app. Demo mode offers a login as any demo persona; never set it in production.
    demo_mode: bool = False
    # Signs the session cookie; None means a random key per process (sessions end on restart).
    session_secret: str | None = None
    session_idle_minutes: int = 30  # a session with no request for this long has ended
    secure_cookies: bool = False  # set true behind HTTPS

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        """Accept the usual `postgres://` and `postgresql://` forms; always use psycopg 3."""
        if value is None:
            return None
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        raise ValueError("DATABASE_URL must be a PostgreSQL URL")

    def source_url(self, source: str) -> str | None:
        url: str | None = getattr(self, f"{source}_url")
        return url

    @classmethod
    def from_environment(cls) -> Settings:
        """Settings from PAATVAERS_* variables, with the conventional DATABASE_URL honoured."""
        import os  # noqa: PLC0415 - read the environment only when asked to

        url = os.environ.get("DATABASE_URL")
        return cls(database_url=url) if url else cls()
