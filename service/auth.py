"""Who is calling: the operator (admin bearer token) or an agency (API key).

API keys look like ``ik_<key id>.<secret>``; only SHA-256(secret) is stored, and every
comparison is constant-time. A wrong or missing credential is 401; a valid one without
the right is 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from identity.errors import AuthenticationError, PermissionDeniedError
from identity.stores import ApiKeyRecord, IssuerStore

API_KEY_PREFIX = "ik_"
SCOPES = frozenset({"issue", "revoke", "read", "accredit"})


@dataclass(frozen=True, slots=True)
class Agency:
    issuer_id: str
    key_id: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDeniedError(f"this API key lacks the {scope!r} scope", scope=scope)


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key")


def require_admin(request: Request, admin_token: str) -> None:
    token = bearer(request)
    if token is None:
        raise AuthenticationError("admin bearer token required")
    if not hmac.compare_digest(token.encode(), admin_token.encode()):
        raise AuthenticationError("invalid admin token")


def new_api_key(
    issuer_id: str, created: datetime, scopes: frozenset[str] = SCOPES
) -> tuple[str, ApiKeyRecord]:
    """Make a key; return the one-time clear text and the record to store."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(key_id, _hash(secret), issuer_id, scopes, created)
    return f"{API_KEY_PREFIX}{key_id}.{secret}", record


def authenticate_agency(request: Request, store: IssuerStore) -> Agency:
    token = bearer(request)
    if token is None:
        raise AuthenticationError("agency API key required")
    if not token.startswith(API_KEY_PREFIX) or "." not in token:
        raise AuthenticationError("malformed API key")
    key_id, _, secret = token[len(API_KEY_PREFIX) :].partition(".")
    record = store.find_api_key(key_id)
    if record is None or not hmac.compare_digest(record.secret_hash, _hash(secret)):
        raise AuthenticationError("invalid API key")
    if record.revoked:
        raise AuthenticationError("API key revoked")
    return Agency(record.issuer_id, record.key_id, record.scopes)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
