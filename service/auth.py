"""Who is calling, and what they may do.

Roles: the **operator** (admin bearer token), **agency** staff (API keys bound to one
agency, scopes ``issue`` / ``revoke`` / ``read`` / ``accredit`` / ``share`` -- publish
catalog entries and make, approve and serve data-sharing requests), **verifiers** (optional
API keys with scope ``verify``: verification is public but rate-limited for anonymous
callers) and **citizens** (a short-lived token scoped to their own DID, obtained by
signing a challenge -- see ``routers/citizens.py``).

API keys look like ``ik_<key id>.<secret>``; only SHA-256(secret) is stored, and every
comparison is constant-time.

The one rule for refusals (docs/security.md): :func:`identify` names the caller from the
credential it presents. No credential, or one that is wrong, expired or revoked, is
:class:`AuthenticationError` (401 with ``WWW-Authenticate: Bearer``, see
``service/problems.py``); a valid credential of a caller who may not do this is
:class:`PermissionDeniedError` (403), whatever kind of credential it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NoReturn, Protocol

from fastapi import Request

from identity.clock import Clock
from identity.errors import AuthenticationError, PermissionDeniedError
from identity.registry.trust import TrustRegistry
from identity.stores import ApiKeyRecord, Store
from service.observability.context import note_caller

API_KEY_PREFIX = "ik_"
SCOPES = frozenset({"issue", "revoke", "read", "accredit", "share"})
VERIFIER_SCOPES = frozenset({"verify"})


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency's API key, authenticated: the agency it acts for and its scopes."""

    issuer_id: str
    key_id: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        """:class:`PermissionDeniedError` naming ``scope`` when this key lacks it."""
        if scope not in self.scopes:
            raise PermissionDeniedError(f"this API key lacks the {scope!r} scope", scope=scope)


def bearer(request: Request) -> str | None:
    """The presented secret: an ``Authorization: Bearer`` value (scheme case-insensitive),
    else ``X-API-Key``, else ``None``. Never logged."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key")


class KnownBearers:
    """Digests of bearer credentials this process accepted lately, at most ``size``
    (least recently used forgotten first). Not a cache of who they are -- each request
    still judges its credential under the trust version -- only a cheap "was this one
    ever good here?", so a route that reads its body before it judges the credential
    (``POST /credentials/verify``, to read every version in one round trip) can judge
    an unknown one first: a wrong or random bearer never gets a body read."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def holds(self, token: str) -> bool:
        """Whether ``token`` was :meth:`accepted` lately."""
        digest = self._digest(token)
        with self._lock:
            if digest not in self._seen:
                return False
            self._seen.move_to_end(digest)
            return True

    def forget(self, token: str) -> None:
        """Forget ``token`` (it was refused: revoked or expired)."""
        digest = self._digest(token)
        with self._lock:
            self._seen.pop(digest, None)

    def accepted(self, token: str) -> None:
        """Remember that ``token`` was judged good."""
        digest = self._digest(token)
        with self._lock:
            self._seen[digest] = None
            self._seen.move_to_end(digest)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)


Role = Literal["anonymous", "operator", "agency", "verifier", "citizen"]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, from a credential that verified (or none at all).

    ``name`` identifies the caller among its role: ``operator``, ``anonymous``,
    ``key:<key id>`` for an API key, ``citizen:<DID>`` for a citizen; ``agency`` and
    ``did`` are set for those roles."""

    role: Role
    name: str
    agency: Agency | None = None
    did: str | None = None


ANONYMOUS = Caller("anonymous", "anonymous")


class Known(Protocol):
    """What :func:`identify` checks credentials against (``Services`` has all five)."""

    @property
    def admin_token(self) -> str:
        """The operator token, compared in constant time."""
        ...

    @property
    def store(self) -> Store:
        """Where API keys and issuers live."""
        ...

    @property
    def tokens(self) -> CitizenTokens:
        """Verifies citizens' ``ct_`` tokens."""
        ...

    @property
    def clock(self) -> Clock:
        """The moment tokens expire against."""
        ...

    @property
    def trust(self) -> TrustRegistry:
        """API keys are read through its versioned cache (identity/registry/cache.py)."""
        ...


def identify(request: Request, known: Known) -> Caller:
    """The caller behind the request's bearer credential; :data:`ANONYMOUS` without one.

    A credential that is present but wrong, expired or revoked is refused here
    (:class:`AuthenticationError`, ``reason`` ``invalid``), never read as anonymous."""
    token = bearer(request)
    if token is None:
        return ANONYMOUS
    if hmac.compare_digest(token.encode(), known.admin_token.encode()):
        note_caller(request, "operator")
        return Caller("operator", "operator")
    if token.startswith(CitizenTokens.PREFIX):
        did = known.tokens.verify(token, known.clock.now())
        note_caller(request, "citizen")  # never the DID: it identifies the citizen
        return Caller("citizen", f"citizen:{did}", did=did)
    record = _api_key(token, known.trust)
    if record.issuer_id is None:
        note_caller(request, "verifier")
        return Caller("verifier", f"key:{record.key_id}")
    agency = Agency(record.issuer_id, record.key_id, record.scopes)
    note_caller(request, "agency", record.issuer_id)
    return Caller("agency", f"key:{record.key_id}", agency=agency)


def refuse(caller: Caller, needed: str) -> NoReturn:
    """Refuse ``caller`` what needs ``needed`` (the credential, named for people): 401 when
    anonymous, else 403 -- the one rule of this module."""
    if caller.role == "anonymous":
        raise AuthenticationError(f"{needed} is required", reason="missing")
    raise PermissionDeniedError(f"{needed} is required; this credential is the {caller.role}'s")


def require_admin(request: Request, known: Known) -> None:
    """Only the operator (the admin bearer token)."""
    caller = identify(request, known)
    if caller.role != "operator":
        refuse(caller, "the operator's admin token")


def new_api_key(
    issuer_id: str | None, created: datetime, scopes: frozenset[str] = SCOPES
) -> tuple[str, ApiKeyRecord]:
    """Make a key; return the one-time clear text and the record to store."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(key_id, _hash(secret), issuer_id, scopes, created)
    return f"{API_KEY_PREFIX}{key_id}.{secret}", record


def authenticate_agency(request: Request, known: Known) -> Agency:
    """Only an agency's API key (any scope: the caller checks it with ``require``)."""
    caller = identify(request, known)
    if caller.agency is None:
        refuse(caller, "an agency API key")
    return caller.agency


def _api_key(token: str, trust: TrustRegistry) -> ApiKeyRecord:
    """The stored record of an API key, read under the trust version (a revocation on any
    replica is seen by the next request: ``revoke_api_key`` grows the version)."""
    if not token.startswith(API_KEY_PREFIX) or "." not in token:
        raise AuthenticationError("unrecognised bearer credential", reason="invalid")
    key_id, _, secret = token[len(API_KEY_PREFIX) :].partition(".")
    record = trust.api_key(key_id)
    if record is None or not hmac.compare_digest(record.secret_hash, _hash(secret)):
        raise AuthenticationError("invalid API key", reason="invalid")
    if record.revoked:
        raise AuthenticationError("API key revoked", reason="invalid")
    return record


class CitizenTokens:
    """Short-lived bearer tokens scoped to one DID: ``ct_<payload>.<mac>``.

    Stateless (any replica checks them): the MAC is HMAC-SHA-256 under a key derived
    from the master secret, so a token cannot be forged or extended.
    """

    PREFIX = "ct_"

    def __init__(self, master_secret: bytes, ttl: timedelta = timedelta(minutes=15)) -> None:
        self._key = hashlib.blake2b(master_secret, digest_size=32, person=b"citizen-token").digest()
        self.ttl = ttl

    def issue(self, did: str, now: datetime) -> tuple[str, datetime]:
        """A token for ``did`` valid for :attr:`ttl` from ``now`` (an HMAC over the DID
        and expiry, nothing stored), and its expiry."""
        expires = now + self.ttl
        payload = _b64(json.dumps({"sub": did, "exp": int(expires.timestamp())}).encode())
        return f"{self.PREFIX}{payload}.{self._mac(payload)}", expires

    def verify(self, token: str, now: datetime) -> str:
        """The token's DID; :class:`AuthenticationError` if forged, malformed or expired."""
        body = token[len(self.PREFIX) :] if token.startswith(self.PREFIX) else ""
        payload, _, mac = body.partition(".")
        if not payload or not hmac.compare_digest(mac, self._mac(payload)):
            raise AuthenticationError("invalid citizen token", reason="invalid")
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            did, exp = str(claims["sub"]), int(claims["exp"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthenticationError("invalid citizen token", reason="invalid") from exc
        if now.timestamp() >= exp:
            raise AuthenticationError("citizen token expired", reason="invalid")
        return did

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


def sharing_agency(request: Request, known: Known) -> Agency:
    """An agency acting in the directory chain: scope ``share`` and accredited now."""
    agency = authenticate_agency(request, known)
    agency.require("share")
    now = known.clock.now()
    if not any(a.active_at(now) for a in known.store.accreditations_of(agency.issuer_id)):
        raise PermissionDeniedError("only an accredited agency publishes or shares data")
    return agency


def authenticate_citizen(request: Request, known: Known) -> str:
    """Only a citizen's token (``POST /auth/token``); its DID."""
    caller = identify(request, known)
    if caller.did is None:
        refuse(caller, "a citizen token (POST /auth/token)")
    return caller.did


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
