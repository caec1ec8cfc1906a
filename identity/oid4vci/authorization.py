"""The authorization code flow of OID4VCI 1.0 §5 with PKCE (RFC 7636), pure logic.

An :class:`Authorization` is one Authorization Request (RFC 6749 §4.1.1) for one offer
(named by ``issuer_state``, OID4VCI §4.1.1), stored whole and changed by
compare-and-set like an :class:`~identity.oid4vci.offer.Offer`. States:

(``pushed``: sent to the PAR endpoint, RFC 9126, until its ``request_uri`` is opened,
once) ``pending`` (the citizen has not signed in; a challenge of purpose
:func:`authorization_purpose` waits) -> ``authorized`` (the offer's citizen signed in
with their DID: a code was handed out, its SHA-256 stored) -> ``redeemed`` (the code was
exchanged at the Token Endpoint: single-use, RFC 6749 §4.1.2) -- or ``denied`` (another
DID signed in). A pending request stops at ``expires_at``, a code at ``code_expires_at``.

Only ``S256`` is accepted (RFC 7636 §4.2; ``plain`` is refused, RFC 9700 §2.1.1).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from typing import Any

from identity.encoding import b64url
from identity.oid4vci.errors import InvalidGrant, InvalidRequest

AUTHORIZATION_CODE_GRANT = "authorization_code"
PENDING, AUTHORIZED, REDEEMED, DENIED = "pending", "authorized", "redeemed", "denied"
#: a request pushed to the PAR endpoint (RFC 9126), not yet opened by its ``request_uri``
PUSHED = "pushed"
#: RFC 7636 §4.1: 43-128 characters of the unreserved set
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
#: an S256 challenge is BASE64URL(SHA-256) without padding: 43 characters
CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def authorization_purpose(request_id: str) -> str:
    """The purpose of the DID-auth challenge of one Authorization Request: it signs in
    that request only (never a ``LOGIN``, never another request)."""
    return f"oid4vci-authorize:{request_id}"


def s256(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` (RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class Authorization:
    """One Authorization Request for one offer, and what became of it.

    ``configuration_ids`` are those the request asked for (by ``scope`` or
    ``authorization_details``; ``details`` says which, since a Token Response answers
    ``authorization_details`` with ``credential_identifiers`` only for the latter,
    OID4VCI §6.2). ``did`` is the DID that signed in; ``code_hash`` the SHA-256 of the
    code handed out (the code itself is never stored)."""

    id: str
    offer_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str | None
    configuration_ids: tuple[str, ...]
    details: bool
    expires_at: int
    created_at: int
    status: str = PENDING
    did: str | None = None
    code_hash: str | None = None
    code_expires_at: int = 0
    version: int = 0

    def to_json(self) -> dict[str, Any]:
        """The request as a JSON object (what every backend stores)."""
        out = {name: getattr(self, name) for name in self.__slots__}
        out["configuration_ids"] = list(self.configuration_ids)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Authorization:
        """The inverse of :meth:`to_json`."""
        return cls(**{**data, "configuration_ids": tuple(data["configuration_ids"])})

    def next(self, **changes: Any) -> Authorization:
        """A changed copy with the version advanced (the value to compare-and-set)."""
        return replace(self, version=self.version + 1, **changes)


def grant(auth: Authorization, did: str, code_hash: str, now: int, lifetime: int) -> Authorization:
    """The request once its citizen signed in: a code (by digest) valid ``lifetime`` s."""
    return auth.next(status=AUTHORIZED, did=did, code_hash=code_hash,
                     code_expires_at=now + lifetime)  # fmt: skip


def redeem_code(
    auth: Authorization, *, client_id: str, redirect_uri: str, verifier: str, now: int
) -> Authorization:
    """Token Request with ``grant_type=authorization_code`` (RFC 6749 §4.1.3, RFC 7636
    §4.5-4.6): the request's next value, or :class:`InvalidGrant` /
    :class:`InvalidRequest` (nothing to store: a failed attempt spends nothing)."""
    if not VERIFIER.fullmatch(verifier):
        raise InvalidRequest("code_verifier is 43 to 128 unreserved characters (RFC 7636 §4.1)")
    if auth.status == REDEEMED:
        raise InvalidGrant("the authorization code was already used")
    if auth.status != AUTHORIZED or now >= auth.code_expires_at:
        raise InvalidGrant("the authorization code is unknown or has expired")
    if not hmac.compare_digest(client_id, auth.client_id):
        raise InvalidGrant("the authorization code was issued to another client")
    if not hmac.compare_digest(redirect_uri, auth.redirect_uri):
        raise InvalidGrant("redirect_uri is not the one of the Authorization Request")
    if not hmac.compare_digest(s256(verifier), auth.code_challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge (RFC 7636 §4.6)")
    return auth.next(status=REDEEMED)
