"""The in-memory OID4VCI store: the oracle of the OID4VCI contract (one lock per call)."""

from __future__ import annotations

import threading

from identity.errors import ConflictError
from identity.oid4vci.authorization import Authorization
from identity.oid4vci.offer import Offer
from identity.oid4vci.store import AccessToken


class MemoryOid4vciStore:
    """:class:`~identity.oid4vci.store.Oid4vciStore` in dicts (lost when the process ends)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offers: dict[str, Offer] = {}
        self._codes: dict[str, str] = {}
        self._transactions: dict[str, str] = {}
        self._tokens: dict[str, AccessToken] = {}
        self._nonces: dict[str, int] = {}
        self._auths: dict[str, Authorization] = {}
        self._auth_codes: dict[str, str] = {}
        self._revoked: set[str] = set()

    def add_offer(self, offer: Offer) -> None:
        """Under the lock: ``ConflictError`` for an id, code hash or transaction id already
        there; else store it and index its code hash and transaction id."""
        with self._lock:
            if offer.id in self._offers or offer.code_hash in self._codes:
                raise ConflictError("offer already stored", id=offer.id)
            if offer.transaction_id is not None and offer.transaction_id in self._transactions:
                raise ConflictError("transaction_id already stored", id=offer.id)
            self._offers[offer.id] = offer
            self._codes[offer.code_hash] = offer.id
            if offer.transaction_id is not None:
                self._transactions[offer.transaction_id] = offer.id

    def get_offer(self, offer_id: str) -> Offer | None:
        """The offer with that id, or ``None``."""
        with self._lock:
            return self._offers.get(offer_id)

    def offer_by_code(self, code_hash: str) -> Offer | None:
        """The offer whose pre-authorized code hashes to ``code_hash``, or ``None``."""
        with self._lock:
            offer_id = self._codes.get(code_hash)
            return self._offers.get(offer_id) if offer_id else None

    def offer_by_transaction(self, transaction_id: str) -> Offer | None:
        """The offer with that deferred ``transaction_id``, or ``None``."""
        with self._lock:
            offer_id = self._transactions.get(transaction_id)
            return self._offers.get(offer_id) if offer_id else None

    def replace_offer(self, current: Offer, new: Offer) -> None:
        """Under the lock, CAS by version: ``ConflictError`` unless the stored offer has
        ``current.version`` (and ids and code hashes match), or when ``new``'s transaction id
        is another offer's; else store ``new`` and move its transaction id index."""
        with self._lock:
            stored = self._offers.get(current.id)
            if (stored is None or stored.version != current.version or new.id != current.id
                    or new.code_hash != stored.code_hash):  # fmt: skip
                raise ConflictError("the offer changed meanwhile", id=current.id)
            tx = new.transaction_id
            if tx is not None and self._transactions.get(tx, new.id) != new.id:
                raise ConflictError("transaction_id already stored", id=current.id)
            self._offers[new.id] = new
            if stored.transaction_id is not None and stored.transaction_id != tx:
                del self._transactions[stored.transaction_id]
            if tx is not None:
                self._transactions[tx] = new.id

    def add_token(self, token: AccessToken) -> None:
        """Under the lock: ``ConflictError`` for a token hash already there."""
        with self._lock:
            if token.token_hash in self._tokens:
                raise ConflictError("access token already stored")
            self._tokens[token.token_hash] = token

    def find_token(self, token_hash: str, now: int) -> AccessToken | None:
        """The token if stored, unexpired at ``now`` (epoch seconds) and its offer not revoked;
        else ``None``."""
        with self._lock:
            token = self._tokens.get(token_hash)
            revoked = token is not None and token.offer_id in self._revoked
        return token if token is not None and now < token.expires_at and not revoked else None

    def revoke_tokens(self, offer_id: str) -> None:
        """Mark the offer revoked: none of its tokens is found again (they stay stored)."""
        with self._lock:
            self._revoked.add(offer_id)  # the tokens stay: a digest is never reused

    def add_nonce(self, nonce: str, expires_at: int) -> None:
        """Store (or re-arm) ``nonce`` until ``expires_at`` (epoch seconds)."""
        with self._lock:
            self._nonces[nonce] = expires_at

    def take_nonce(self, nonce: str, now: int) -> bool:
        """Pop the nonce under the lock: ``True`` only for the one caller that took it unexpired
        at ``now``; an expired one is removed too, and ``False``."""
        with self._lock:
            expires_at = self._nonces.pop(nonce, None)
        return expires_at is not None and now < expires_at

    def add_authorization(self, auth: Authorization) -> None:
        """Under the lock: ``ConflictError`` for an id or code hash already there; else store it
        and index its code hash."""
        with self._lock:
            if auth.id in self._auths or (
                auth.code_hash is not None and auth.code_hash in self._auth_codes
            ):
                raise ConflictError("authorization request already stored", id=auth.id)
            self._auths[auth.id] = auth
            if auth.code_hash is not None:
                self._auth_codes[auth.code_hash] = auth.id

    def get_authorization(self, request_id: str) -> Authorization | None:
        """The authorization request with that id, or ``None``."""
        with self._lock:
            return self._auths.get(request_id)

    def authorization_by_code(self, code_hash: str) -> Authorization | None:
        """The authorization request whose code hashes to ``code_hash``, or ``None``."""
        with self._lock:
            request_id = self._auth_codes.get(code_hash)
            return self._auths.get(request_id) if request_id else None

    def replace_authorization(self, current: Authorization, new: Authorization) -> None:
        """Under the lock, CAS by version as :meth:`replace_offer`; ``ConflictError`` also when
        the new code hash is another request's, or changes one already set."""
        with self._lock:
            stored = self._auths.get(current.id)
            if stored is None or stored.version != current.version or new.id != current.id:
                raise ConflictError("the authorization request changed meanwhile", id=current.id)
            if stored.code_hash is not None and new.code_hash != stored.code_hash:
                raise ConflictError("an authorization code never changes", id=current.id)
            code = new.code_hash
            if code is not None and self._auth_codes.get(code, new.id) != new.id:
                raise ConflictError("authorization code already stored")
            self._auths[new.id] = new
            if code is not None:
                self._auth_codes[code] = new.id

    def close(self) -> None:
        """Nothing to release."""
        return None
