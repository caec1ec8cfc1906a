"""The service's one settings class: ``IDENTITY_*`` environment variables.

Safe defaults for a developer's machine; loud refusals in production (``IDENTITY_ENV=
production``) when a secret is missing or weak. Secrets are ``SecretStr`` so they never
appear in a repr, a log line or an error.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("identity.settings")

MASTER_KEY_FILE = "master.key"
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 -- a file name, not a secret


class SettingsError(ValueError):
    """The settings cannot run a safe service; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    storage_url: str = ""
    """``sqlite:///path/file.sqlite3`` (default: ``<data_dir>/identity.sqlite3``) or
    ``redis://host:port/db``."""
    sqlite_synchronous: Literal["NORMAL", "FULL", "EXTRA"] = "FULL"
    redis_prefix: str = Field(default="identity:", pattern=r"^[A-Za-z0-9:_.-]{1,64}$")
    """Key namespace, so several services can share one Redis."""
    redis_timeout_s: float = Field(default=2.0, gt=0, le=60)
    redis_initialize: bool = False
    """Production refuses an empty Redis namespace (a mistyped prefix) unless this is set
    for the very first start."""

    admin_token: SecretStr | None = None
    master_secret: SecretStr | None = None
    """32+ bytes, base64 or hex. Seals issuer private keys at rest."""

    public_url: str = "http://localhost:8000"
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=64, ge=4, le=512)
    contexts_dir: Path | None = None
    """Operator JSON-LD contexts for their own credential types: a folder holding
    ``manifest.json`` (``{"<context URL>": "<file>"}``) and the files it names."""
    default_cryptosuite: Literal["eddsa-jcs-2022", "eddsa-rdfc-2022"] = "eddsa-jcs-2022"

    allow_unregistered_types: bool = False
    """Issue credential types that are not in the registry (no schema, no accreditation)."""
    seed_credential_types: bool = True
    """Register the bundled types (residence permit, business licence, ...) at start-up."""

    public_verify_per_minute: int = Field(default=600, ge=1)
    """Anonymous verification requests per client address and minute (per worker)."""
    accept_caller_challenges: bool = False
    """``/presentations/verify`` also accepts a challenge this service did not hand out
    (the caller then owns replay protection, as in the W3C test suites); challenges from
    ``POST /challenges`` stay single-use either way."""
    citizen_token_minutes: int = Field(default=15, ge=1, le=1440)

    did_web_timeout_s: float = Field(default=5.0, gt=0, le=60)
    """Time allowed to fetch one did:web document: to connect, per read, and in all."""
    did_web_max_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    """A did:web document larger than this is refused (and its download cut off)."""
    did_web_cache_seconds: int = Field(default=300, ge=0, le=86_400)
    """How long a fetched did:web document is reused (0: never cached)."""
    did_web_allow_http: bool = False
    """Fetch did:web documents over plain ``http://`` instead of HTTPS: tests and local
    development only, refused in production."""

    log_format: Literal["json", "console"] | None = None
    """``json`` (one object per line) or ``console`` (human-readable); default: ``json``
    in production, ``console`` in development."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    """One log line per HTTP request (request id, route, status, duration, caller)."""
    metrics_enabled: bool = True
    """Prometheus metrics at ``GET /metrics`` (docs/observability.md)."""
    metrics_token: SecretStr | None = None
    """Bearer token that may read ``/metrics`` and nothing else; the admin token also may."""

    log_origin: str = "identity.example/log"
    log_batch_size: int = Field(default=512, ge=1)
    log_batch_ms: float = Field(default=5.0, ge=0)
    log_wait_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("storage_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "redis://", "rediss://", "memory://")):
            raise ValueError("storage_url must start with sqlite:///, redis:// or memory://")
        return value

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.env != "production":
            return self
        token = self.admin_token.get_secret_value() if self.admin_token else ""
        if len(token) < 32:
            raise SettingsError("IDENTITY_ADMIN_TOKEN must be set to 32+ characters in production")
        if self.master_secret is None:
            raise SettingsError("IDENTITY_MASTER_SECRET must be set in production")
        if self.did_web_allow_http:
            raise SettingsError("IDENTITY_DID_WEB_ALLOW_HTTP must not be set in production")
        return self

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or f"sqlite:///{self.data_dir / 'identity.sqlite3'}"

    def master_secret_bytes(self) -> bytes:
        """The master secret; in development, one generated once and kept in the data dir."""
        if self.master_secret is not None:
            return decode_secret(self.master_secret.get_secret_value())
        path = self.data_dir / MASTER_KEY_FILE
        _create_secret_file(path, base64.b64encode(secrets.token_bytes(32)).decode())
        log.warning(
            "DEVELOPMENT MODE: no IDENTITY_MASTER_SECRET set; issuer keys are sealed with a "
            "generated secret kept in %s. Set IDENTITY_MASTER_SECRET in production.",
            path,
        )
        return decode_secret(path.read_text().strip())

    def admin_token_value(self) -> str:
        """The admin token; in development, one generated once and kept in the data dir."""
        if self.admin_token is not None:
            return self.admin_token.get_secret_value()
        path = self.data_dir / ADMIN_TOKEN_FILE
        _create_secret_file(path, secrets.token_urlsafe(32))
        log.warning(
            "DEVELOPMENT MODE: no IDENTITY_ADMIN_TOKEN set; the admin token is in %s.", path
        )
        return path.read_text().strip()


def _create_secret_file(path: Path, value: str) -> None:
    """Write ``value`` to a new owner-only file unless the file already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(value)


def decode_secret(text: str) -> bytes:
    """Accept hex or base64 (standard or URL-safe); require 32+ bytes."""
    raw: bytes | None = None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(
                text + "=" * (-len(text) % 4),
                altchars=b"-_" if "-" in text or "_" in text else None,
                validate=True,
            )
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) < 32:
        raise SettingsError("IDENTITY_MASTER_SECRET must be 32+ bytes, hex or base64")
    return raw
