"""Storage contract of the OID4VCI issuer state: offers, access tokens, ``c_nonce``,
and the Authorization Requests of the authorization code flow.

Proved on every backend by ``tests/storage/test_oid4vci_contract.py``;
:class:`~identity.storage.memory_oid4vci.MemoryOid4vciStore` is its oracle. Times are
Unix seconds given by the caller (the store keeps no clock of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from identity.oid4vci.authorization import Authorization
from identity.oid4vci.offer import Offer


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An access token (stored as its digest) bound to one offer, until ``expires_at``."""

    token_hash: str
    offer_id: str
    expires_at: int


class AuthorizationStore(Protocol):
    """Authorization Requests of the authorization code flow (OID4VCI §5), found by id
    or by the digest of the code they handed out. Each call is atomic.

    A request's ``code_hash`` is unique among the stored requests and, once set, never
    changes: :meth:`authorization_by_code` finds the request whose code it is, however
    it was stored (:meth:`add_authorization` or :meth:`replace_authorization`)."""

    def add_authorization(self, auth: Authorization) -> None:
        """Store a new request (and index its ``code_hash`` when it has one);
        :class:`~identity.errors.ConflictError` (nothing changed) when its id, or its code
        digest, is already stored."""
        ...

    def get_authorization(self, request_id: str) -> Authorization | None:
        """The current value of the request, or None."""
        ...

    def authorization_by_code(self, code_hash: str) -> Authorization | None:
        """The request whose authorization code has this digest, or None."""
        ...

    def replace_authorization(self, current: Authorization, new: Authorization) -> None:
        """Compare-and-set on the version (as :meth:`Oid4vciStore.replace_offer`): of two
        racing redemptions of one code exactly one succeeds; the other is
        :class:`~identity.errors.ConflictError` with nothing changed. A ``code_hash``
        set by ``new`` is indexed (unique: another request's is ConflictError); ``new``
        changing or clearing a ``code_hash`` already set is ConflictError too."""
        ...


class Oid4vciStore(AuthorizationStore, Protocol):
    """Each call is atomic; a failing backend raises
    :class:`~identity.errors.UnavailableError` with nothing written.

    Uniqueness is the domain's :class:`~identity.errors.ConflictError` on every backend
    (never ``UnavailableError``, whatever the backend's own constraint says): an offer's
    id, its ``code_hash`` (fixed for its lifetime) and its current ``transaction_id`` are
    each unique among the stored offers. A ``transaction_id`` names its offer only while
    the offer carries it: once replaced or cleared it finds nothing, and may be taken by
    another offer."""

    def add_offer(self, offer: Offer) -> None:
        """Store a new offer; :class:`~identity.errors.ConflictError` (nothing changed)
        when its id, its code digest or its ``transaction_id`` is already stored."""
        ...

    def get_offer(self, offer_id: str) -> Offer | None:
        """The current value of the offer, or None."""
        ...

    def offer_by_code(self, code_hash: str) -> Offer | None:
        """The offer whose pre-authorized code has this digest, or None."""
        ...

    def offer_by_transaction(self, transaction_id: str) -> Offer | None:
        """The offer whose current deferred ``transaction_id`` this is, or None."""
        ...

    def replace_offer(self, current: Offer, new: Offer) -> None:
        """Compare-and-set: store ``new`` when the stored version is ``current.version``;
        :class:`~identity.errors.ConflictError` (nothing changed) otherwise, and when
        ``new`` has another id or ``code_hash``, or a ``transaction_id`` another offer
        carries. The offer's previous ``transaction_id``, if ``new`` changes it, is
        released."""
        ...

    def add_token(self, token: AccessToken) -> None:
        """Store an access token (digests are unique: a repeat is ConflictError)."""
        ...

    def find_token(self, token_hash: str, now: int) -> AccessToken | None:
        """The token with this digest while ``now < expires_at``, else None."""
        ...

    def revoke_tokens(self, offer_id: str) -> None:
        """Revoke every access token bound to ``offer_id``: stored already or added
        after this call, :meth:`find_token` never finds one again (RFC 6749 §4.1.2: the
        tokens issued from an authorization code that is presented twice; the marker is
        sticky, so a token added by a redemption still in flight is revoked too).
        A revoked token's digest stays taken (``add_token`` of it is ConflictError).
        Idempotent."""
        ...

    def add_nonce(self, nonce: str, expires_at: int) -> None:
        """Remember a ``c_nonce`` until ``expires_at``."""
        ...

    def take_nonce(self, nonce: str, now: int) -> bool:
        """Consume a ``c_nonce``: True exactly once for a stored, unexpired nonce (of two
        racing takers one wins); False when unknown, used or expired."""
        ...

    def close(self) -> None:
        """Release connections (a client given by the caller stays open)."""
        ...
