"""The service's one settings class: ``IDENTITY_*`` environment variables.

Safe defaults for a developer's machine; loud refusals in production (``IDENTITY_ENV=
production``) when a secret is missing or weak. Secrets are ``SecretStr`` so they never
appear in a repr, a log line or an error.

A refusal is one :class:`SettingsError` listing every setting to fix, one line each
(``IDENTITY_NAME: what to do``), and never a value: pydantic's own messages carry the
input, so they are rebuilt here from the error's location and kind only. An ``IDENTITY_*``
variable that names no setting is refused in production and warned about in development
(refused there too when it asks for production: a mistyped ``IDENTITY_ENV``).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from identity.storage.redis_cluster import CLUSTER_SCHEMES

log = logging.getLogger("identity.settings")

MASTER_KEY_FILE = "master.key"
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 -- a file name, not a secret
PREFIX = "IDENTITY_"
NOT_SETTINGS = frozenset(
    {
        "IDENTITY_TEST_REDIS_URL",  # the test suite's Redis
        "IDENTITY_REQUIRE_REDIS",  # the test suite's refusal to skip Redis tests
        "IDENTITY_HOLD_ON_REFUSAL",  # `identity serve --hold-on-refusal` (the image sets it)
    }
)
"""``IDENTITY_*`` variables read by the test suite (tests/storage), not by the service."""


class SettingsError(ValueError):
    """The settings cannot run a safe service; the message says what to set.

    ``problems`` holds one line per setting to fix; ``str()`` is all of them, one a line.
    No line ever contains a setting's value."""

    def __init__(self, *problems: str) -> None:
        text = problems[0] if len(problems) == 1 else f"{len(problems)} settings to fix:"
        super().__init__("\n  ".join([text, *problems]) if len(problems) > 1 else text)
        self.problems = problems


class Settings(BaseSettings):
    """The service's settings, read from ``IDENTITY_*`` environment variables (unknown ones
    ignored) and checked at start: every problem is reported at once as a
    :class:`SettingsError`, never with a secret's value."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    storage_url: str = ""
    """``sqlite:///path/file.sqlite3`` (default: ``<data_dir>/identity.sqlite3``),
    ``redis://host:port/db``, or a Redis Cluster: ``redis+cluster://host:port,host:port``
    (``rediss+cluster://`` with TLS; see :mod:`identity.storage.redis_cluster`)."""
    sqlite_synchronous: Literal["NORMAL", "FULL", "EXTRA"] = "FULL"
    redis_prefix: str = Field(default="identity:", pattern=r"^[A-Za-z0-9:_.-]{1,64}$")
    """Key namespace, so several services can share one Redis."""
    redis_timeout_s: float = Field(default=2.0, gt=0, le=60)
    redis_initialize: bool = False
    """Production refuses an empty Redis namespace (a mistyped prefix) unless this is set
    for the very first start."""
    redis_min_replicas: int = Field(default=0, ge=0, le=16)
    """Redis replicas that must acknowledge a write (``WAIT``) before it is answered as
    done (201); 0: none -- a failover may lose the last acknowledged writes."""
    redis_wait_timeout_ms: int = Field(default=1000, ge=1, le=60_000)
    """How long a write waits for ``redis_min_replicas``; then 503, never 201. Keep it
    below ``redis_timeout_s``."""

    admin_token: SecretStr | None = Field(default=None, validate_default=True)
    master_secret: SecretStr | None = Field(default=None, validate_default=True)
    """32+ bytes, base64 or hex. Seals issuer private keys at rest."""

    public_url: str = "http://localhost:8000"
    """This service's own absolute http(s) URL: its host is the ``domain`` of DID login."""
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
    generic_status_messages: list[str] = []
    """Named states (2, 4, 8 or 16) that credentials of unregistered types carry as a
    Bitstring Status List ``message`` entry; empty: none. Registered types name their
    own (``statusMessages``). Fixed for the life of a deployment: the status API reads
    a credential's states from here."""

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
    did_web_allow_http: bool = Field(default=False, validate_default=True)
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

    oid4vci_pin_tries: int = Field(default=5, ge=1, le=100)
    """Wrong Transaction Codes (PINs) after which an OpenID4VCI offer is locked."""
    oid4vci_tx_code_length: int = Field(default=6, ge=4, le=12)
    """Digits of the Transaction Code handed to the citizen with an offer."""
    oid4vci_code_minutes: int = Field(default=15, ge=1, le=10_080)
    """Lifetime of a pre-authorized code (and of its offer by reference)."""
    oid4vci_token_seconds: int = Field(default=300, ge=30, le=86_400)
    """Lifetime of an OpenID4VCI access token."""
    oid4vci_nonce_seconds: int = Field(default=300, ge=30, le=3600)
    """Lifetime of a ``c_nonce`` from the Nonce Endpoint."""
    oid4vci_auth_code_seconds: int = Field(default=60, ge=5, le=600)
    """Lifetime of an OpenID4VCI authorization code (RFC 6749 §4.1.2: 10 minutes at most)."""
    oid4vci_redirect_uris: str = ""
    """Registered wallet redirect URIs (comma-separated) besides loopback and private-use
    scheme ones (RFC 8252 §7.1, §7.3): the only places authorization answers are sent."""

    log_origin: str = "identity.example/log"
    log_batch_size: int = Field(default=512, ge=1)
    log_batch_ms: float = Field(default=5.0, ge=0)
    log_wait_timeout_s: float = Field(default=10.0, gt=0)
    log_max_lag_s: float = Field(default=30.0, gt=0)
    """Integration behind sequencing for longer than this makes /health answer 503 and
    new acts be refused (503) until it catches up."""
    log_shard_period: Literal["none", "year", "month"] = "none"
    """Shards of the log by period (docs/log-shards.md): ``none`` is one log, as always."""
    log_shard_max_entries: int | None = Field(default=None, ge=1)
    """Also close a shard once it holds this many entries (``2026``, ``2026.1``, …)."""
    log_shard_grace_s: float = Field(default=60.0, ge=0)
    """How long after its period ends a shard stays writable before it is frozen."""
    log_shards_dir: Path | None = None
    """A folder of exported frozen shards (``<dir>/<name>/checkpoint``, tiles): served
    from these files, verified in full first, with no store read."""

    def __init__(self, **values: Any) -> None:
        """Read the settings; :class:`SettingsError` lists every problem, no value echoed."""
        environ = {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(PREFIX)}
        problems: list[str] = []
        try:
            super().__init__(**values)
        except ValidationError as exc:
            problems = [_line(error) for error in exc.errors(include_input=False)]
        production = values.get("env", environ.get(PREFIX + "ENV")) == "production"
        problems += _unknown_variables(environ, production)
        if problems:
            raise SettingsError(*problems) from None

    @field_validator("storage_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        schemes = ("sqlite:///", "redis://", "rediss://", "memory://", *CLUSTER_SCHEMES)
        if value and not value.startswith(schemes):
            raise ValueError(
                "must start with sqlite:///, redis://, rediss://, redis+cluster://, "
                "rediss+cluster:// or memory://"
            )
        return value

    @field_validator("contexts_dir")
    @classmethod
    def _contexts_manifest(cls, value: Path | None) -> Path | None:
        if value is not None and not (value / "manifest.json").is_file():
            raise ValueError("must be a folder holding manifest.json (see the README)")
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "must be an absolute http:// or https:// URL, e.g. https://id.city.gov"
            )
        if parts.username is not None or parts.query or parts.fragment:
            raise ValueError("must have no user, query or fragment: scheme, host, port, path")
        return value

    @field_validator("master_secret")
    @classmethod
    def _strong_master_secret(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is None:
            if info.data.get("env") == "production":
                raise ValueError("must be set in production (32+ random bytes, hex or base64)")
            return None
        try:
            decode_secret(value.get_secret_value())
        except SettingsError as exc:
            raise ValueError(str(exc).removeprefix(PREFIX + "MASTER_SECRET: ")) from None
        return value

    @field_validator("admin_token")
    @classmethod
    def _strong_admin_token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if info.data.get("env") == "production" and (
            value is None or len(value.get_secret_value()) < 32
        ):
            raise ValueError("must be set to 32+ random characters in production")
        return value

    @field_validator("did_web_allow_http")
    @classmethod
    def _https_in_production(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("env") == "production":
            raise ValueError("must not be set in production (did:web is fetched over HTTPS)")
        return value

    @property
    def default_host(self) -> str:
        """The interface ``identity serve`` binds without ``--host``: loopback only outside
        production (a generated admin token is no key to hand the network); all interfaces
        in production, where the container passes ``--host 0.0.0.0`` anyway."""
        return "0.0.0.0" if self.env == "production" else "127.0.0.1"  # noqa: S104

    @property
    def resolved_storage_url(self) -> str:
        """``storage_url``, or the default SQLite file in ``data_dir`` when it is empty: the URL
        the store is actually opened with."""
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
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(value)


def _line(error: Any) -> str:
    """One line for one pydantic error: the variable and what to do, never the input."""
    loc = error.get("loc") or ()
    name = PREFIX + str(loc[0]).upper() if loc else "settings"
    kind = str(error.get("type", ""))
    if kind == "value_error":  # our own validators' sentences (they hold no value)
        what = str(error.get("ctx", {}).get("error", "is invalid"))
    else:  # pydantic's sentence: what it expected (the input is a separate field)
        what = str(error.get("msg", "is invalid"))
    return f"{name}: {what}"


def _unknown_variables(environ: Mapping[str, str], production: bool) -> list[str]:
    """Lines refusing ``IDENTITY_*`` variables that name no setting (warnings outside
    production, unless the variable asks for production)."""
    known = {PREFIX + name.upper() for name in Settings.model_fields}
    problems = []
    for name in sorted(set(environ) - known - NOT_SETTINGS):
        close = _nearest(name, known)
        hint = f" (did you mean {close}?)" if close else ""
        line = f"{name}: not a setting{hint}; remove or rename it"
        if production or environ[name].strip().lower() == "production":
            problems.append(line)
        else:
            # Its own level: the CLI quiets the development warnings, never this one.
            unknown = logging.getLogger("identity.settings.unknown")
            unknown.setLevel(logging.WARNING)
            unknown.warning("%s (ignored in development)", line)
    return problems


def _nearest(name: str, known: set[str]) -> str | None:
    """The setting ``name`` most likely meant: a close spelling, or one it starts with
    (``IDENTITY_ENVIRONMENT`` -> ``IDENTITY_ENV``)."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.85)
    if close:
        return close[0]
    starts = [k for k in known if name.startswith(k)]
    return max(starts, key=len) if starts else None


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
        raise SettingsError(
            "IDENTITY_MASTER_SECRET: must be 32+ bytes, hex or base64 "
            "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return raw
