"""One typed settings object, built at start-up and passed down; never read at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ClaimMapping(BaseModel):
    """Which claims of an identity provider's ID token make the principal (docs/login.md).

    With `function` unset, the user must be a stored staff user (found by the `username`
    claim) and function, unit and data restrictions come from there. With `function` set,
    the principal is built from the claims alone: the function (translated through
    `function_values`), the unit (by our unit id, its SOR code or its FK Organisation UUID)
    and, for municipal users, KOMBIT's data restrictions (KLE patterns, the highest
    sensitivity, the municipality's CVR number)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = "preferred_username"
    # A claim holding the user's UUID (KOMBIT: the FK Organisation Bruger UUID). Unset: the
    # stored staff user's id, or a UUID derived from the issuer and `sub`.
    user_id: str | None = None
    function: str | None = None
    function_values: dict[str, str] = Field(default_factory=dict)  # IdP value -> our value
    unit: str | None = None
    unit_identifier: Literal["id", "sor", "fk_org"] = "id"
    kle: str | None = None  # a list, or one string of patterns separated by spaces or commas
    max_sensitivity: str | None = None
    cvr: str | None = None


class SmartIssuer(BaseModel):
    """An EHR allowed to launch the app (SMART App Launch 2.x EHR launch)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str  # the EHR's FHIR base URL, exactly as it sends it in `iss`
    client_id: str
    client_secret: str | None = None  # None: a public client (PKCE only)
    scope: str = "launch openid fhirUser patient/Patient.r"
    claims: ClaimMapping = ClaimMapping()


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
    # Where users reach the app (e.g. "https://paatvaers.example.dk"): redirect URIs for
    # OpenID Connect and SMART are built from it. None: from the request's own URL.
    public_url: str | None = None
    # OpenID Connect login through a production identity provider; None: not offered.
    # Discovery is read from `<issuer>/.well-known/openid-configuration`.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid profile"
    oidc_claims: ClaimMapping = ClaimMapping()
    # The citizens' login (the family pages, docs/family.md): OpenID Connect through a MitID
    # broker, separate from the professionals' provider; None: not offered. The CPR number is
    # read from `citizen_oidc_cpr_claim` (brokers pass MitID's OIOSAML attribute under its name).
    citizen_oidc_issuer: str | None = None
    citizen_oidc_client_id: str | None = None
    citizen_oidc_client_secret: str | None = None
    citizen_oidc_scopes: str = "openid"
    citizen_oidc_cpr_claim: str = "dk:gov:saml:attribute:CprNumberIdentifier"
    citizen_oidc_name_claim: str = "name"
    # MedCom correspondence. The mailbox directory (VANS-style, a folder per GLN); None means
    # `<data_dir>/medcom`. How long a sent message waits for its acknowledgement before it
    # is sent again (MedCom: 30 minutes). The bearer token for receivers' HTTP endpoints.
    medcom_mailbox_dir: Path | None = None
    medcom_ack_timeout_minutes: float = 30
    medcom_http_token: str | None = None
    # The EHRs (EPJ and GP systems) that may open the app in context; empty: none may.
    smart_issuers: list[SmartIssuer] = Field(default_factory=list)
    # Involvement notices (docs/notices.md): changes about one child found within this many
    # minutes of a user's unread notice join it. The e-mail digest is sent only when an SMTP
    # server is named ("smtp://host:port", or "smtp+starttls://user:password@host:port").
    notice_window_minutes: float = 60
    smtp_url: str | None = None
    notice_email_from: str = "ikke-svar@paatvaers.example"

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

    @property
    def mailbox_dir(self) -> Path:
        return self.medcom_mailbox_dir or self.data_dir / "medcom"

    def source_url(self, source: str) -> str | None:
        url: str | None = getattr(self, f"{source}_url")
        return url

    @classmethod
    def from_environment(cls) -> Settings:
        """Settings from PAATVAERS_* variables, with the conventional DATABASE_URL honoured."""
        import os  # noqa: PLC0415 - read the environment only when asked to

        url = os.environ.get("DATABASE_URL")
        return cls(database_url=url) if url else cls()
