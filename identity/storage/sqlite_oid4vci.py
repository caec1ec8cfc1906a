"""SQLite OID4VCI store: tables ``oid4vci_offers``, ``oid4vci_tokens``,
``oid4vci_nonces``, ``oid4vci_authorizations``, ``oid4vci_revoked_offers`` (the offers
whose tokens are revoked, RFC 6749 §4.1.2) in the service's database file; each
call one statement or one ``BEGIN IMMEDIATE`` transaction."""

from __future__ import annotations

import json
import sqlite3

from identity.errors import ConflictError
from identity.oid4vci.authorization import Authorization
from identity.oid4vci.offer import Offer
from identity.oid4vci.store import AccessToken
from identity.storage.sqlite_base import SqliteRecords

SCHEMA = """
CREATE TABLE IF NOT EXISTS oid4vci_offers (
    id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    transaction_id TEXT UNIQUE,
    version INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS oid4vci_tokens (
    token_hash TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS oid4vci_authorizations (
    id TEXT PRIMARY KEY,
    code_hash TEXT UNIQUE,
    version INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS oid4vci_revoked_offers (
    offer_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS oid4vci_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
"""


def _offer(rows: list[tuple[str]]) -> Offer | None:
    return Offer.from_json(json.loads(rows[0][0])) if rows else None


class SqliteOid4vciStore(SqliteRecords):
    """:class:`~identity.oid4vci.store.Oid4vciStore` in SQLite."""

    SCHEMA = SCHEMA

    def add_offer(self, offer: Offer) -> None:
        """Insert into ``oid4vci_offers`` (id, code hash and transaction id are UNIQUE):
        ``ConflictError`` if any is already there."""
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO oid4vci_offers VALUES (?, ?, ?, ?, ?)",
                    (offer.id, offer.code_hash, offer.transaction_id, offer.version,
                     json.dumps(offer.to_json())),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise ConflictError("offer already stored", id=offer.id) from None

    def get_offer(self, offer_id: str) -> Offer | None:
        """The offer with that id (its JSON in ``data``), or ``None``."""
        return _offer(self._read("SELECT data FROM oid4vci_offers WHERE id = ?", (offer_id,)))

    def offer_by_code(self, code_hash: str) -> Offer | None:
        """The offer whose pre-authorized code hashes to ``code_hash`` (UNIQUE), or ``None``."""
        return _offer(
            self._read("SELECT data FROM oid4vci_offers WHERE code_hash = ?", (code_hash,))
        )

    def offer_by_transaction(self, transaction_id: str) -> Offer | None:
        """The offer with that deferred ``transaction_id`` (UNIQUE), or ``None``."""
        return _offer(
            self._read(
                "SELECT data FROM oid4vci_offers WHERE transaction_id = ?", (transaction_id,)
            )
        )

    def replace_offer(self, current: Offer, new: Offer) -> None:
        """CAS by version: one ``UPDATE … WHERE id = ? AND version = ? AND code_hash = ?``
        in a ``BEGIN IMMEDIATE`` transaction; ``ConflictError`` unless it updated exactly
        one row (or when ``new`` has another id), and when the UNIQUE ``transaction_id``
        is another offer's (the constraint's IntegrityError, rolled back)."""
        if new.id != current.id:
            raise ConflictError("the offer changed meanwhile", id=current.id)
        with self._write() as db:
            try:
                cursor = db.execute(
                    "UPDATE oid4vci_offers SET version = ?, transaction_id = ?, data = ? "
                    "WHERE id = ? AND version = ? AND code_hash = ?",
                    (new.version, new.transaction_id, json.dumps(new.to_json()), current.id,
                     current.version, new.code_hash),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise ConflictError("transaction_id already stored", id=current.id) from None
            if cursor.rowcount != 1:
                raise ConflictError("the offer changed meanwhile", id=current.id)

    def add_token(self, token: AccessToken) -> None:
        """Insert into ``oid4vci_tokens`` keyed by the token's hash; ``ConflictError`` if there."""
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO oid4vci_tokens VALUES (?, ?, ?)",
                    (token.token_hash, token.offer_id, token.expires_at),
                )
            except sqlite3.IntegrityError:
                raise ConflictError("access token already stored") from None

    def find_token(self, token_hash: str, now: int) -> AccessToken | None:
        """The token if its hash is stored, unexpired at ``now`` (epoch seconds) and its offer
        not in ``oid4vci_revoked_offers``; else ``None``."""
        rows = self._read(
            "SELECT token_hash, offer_id, expires_at FROM oid4vci_tokens "
            "WHERE token_hash = ? AND expires_at > ? AND offer_id NOT IN "
            "(SELECT offer_id FROM oid4vci_revoked_offers)",
            (token_hash, now),
        )
        return AccessToken(*rows[0]) if rows else None

    def revoke_tokens(self, offer_id: str) -> None:
        """Add the offer to ``oid4vci_revoked_offers`` (idempotent): every token of it stops
        being found at once, rows kept."""
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO oid4vci_revoked_offers VALUES (?)", (offer_id,))

    def add_nonce(self, nonce: str, expires_at: int) -> None:
        """Store (or re-arm) ``nonce`` until ``expires_at`` (epoch seconds)."""
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO oid4vci_nonces VALUES (?, ?)", (nonce, expires_at))

    def take_nonce(self, nonce: str, now: int) -> bool:
        """In one ``BEGIN IMMEDIATE`` transaction: purge expired nonces, then delete this one if
        unexpired; ``True`` only for the one caller whose delete removed it."""
        with self._write() as db:
            db.execute("DELETE FROM oid4vci_nonces WHERE expires_at <= ?", (now,))
            cursor = db.execute(
                "DELETE FROM oid4vci_nonces WHERE nonce = ? AND expires_at > ?", (nonce, now)
            )
            return cursor.rowcount == 1

    def add_authorization(self, auth: Authorization) -> None:
        """Insert into ``oid4vci_authorizations``; ``ConflictError`` for an id or code hash
        already there."""
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO oid4vci_authorizations VALUES (?, ?, ?, ?)",
                    (auth.id, auth.code_hash, auth.version, json.dumps(auth.to_json())),
                )
            except sqlite3.IntegrityError:
                raise ConflictError("authorization request already stored", id=auth.id) from None

    def get_authorization(self, request_id: str) -> Authorization | None:
        """The authorization request with that id, or ``None``."""
        return _authorization(
            self._read("SELECT data FROM oid4vci_authorizations WHERE id = ?", (request_id,))
        )

    def authorization_by_code(self, code_hash: str) -> Authorization | None:
        """The authorization request whose code hashes to ``code_hash`` (UNIQUE), or ``None``."""
        return _authorization(
            self._read("SELECT data FROM oid4vci_authorizations WHERE code_hash = ?", (code_hash,))
        )

    def replace_authorization(self, current: Authorization, new: Authorization) -> None:
        """CAS by version as :meth:`replace_offer`; ``ConflictError`` also when the new code
        hash is another request's, or changes one already set (the ``WHERE`` keeps a set
        ``code_hash``)."""
        if new.id != current.id:
            raise ConflictError("the authorization request changed meanwhile", id=current.id)
        with self._write() as db:
            try:
                cursor = db.execute(
                    "UPDATE oid4vci_authorizations SET version = ?, code_hash = ?, data = ? "
                    "WHERE id = ? AND version = ? AND (code_hash IS NULL OR code_hash = ?)",
                    (new.version, new.code_hash, json.dumps(new.to_json()), current.id,
                     current.version, new.code_hash),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise ConflictError("authorization code already stored") from None
            if cursor.rowcount != 1:
                raise ConflictError("the authorization request changed meanwhile", id=current.id)


def _authorization(rows: list[tuple[str]]) -> Authorization | None:
    return Authorization.from_json(json.loads(rows[0][0])) if rows else None
