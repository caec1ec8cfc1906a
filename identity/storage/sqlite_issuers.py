"""SQLite issuers, API keys and challenges (``issuers``, ``api_keys``, ``purposed_challenges``).

A record family of :class:`~identity.storage.sqlite.SqliteStore`, whose module states the
contract: each public write here is one ``BEGIN IMMEDIATE`` transaction, so a rejected
call (conflict, not found) writes nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from identity.errors import ConflictError, NotFoundError
from identity.storage.sqlite_base import SqliteRecords, bump_trust_version
from identity.stores import Anchor, ApiKeyRecord, IssuerRecord, check_challenge


class SqliteIssuers(SqliteRecords):
    """Issuers and their API keys, and the one-time challenges of holder proofs."""

    # -- issuers ------------------------------------------------------------------------

    def create_issuer(
        self, issuer: IssuerRecord, api_key: ApiKeyRecord, anchor: Anchor | None = None
    ) -> None:
        """In the act's ``BEGIN IMMEDIATE`` transaction: insert the ``issuers`` and ``api_keys``
        rows and bump the trust version; a duplicate issuer id, DID or key id (an
        ``IntegrityError``) is ``ConflictError`` with nothing written, entry included."""
        with self._anchored(anchor) as (db, _):
            try:
                db.execute(
                    "INSERT INTO issuers VALUES (?, ?, ?, ?, ?)",
                    (
                        issuer.id,
                        issuer.name,
                        issuer.did,
                        issuer.sealed_key,
                        issuer.created.isoformat(),
                    ),
                )
                _insert_key(db, api_key)
            except sqlite3.IntegrityError as exc:
                raise ConflictError("issuer or API key already exists", issuer=issuer.id) from exc
            bump_trust_version(db)

    def get_issuer(self, issuer_id: str) -> IssuerRecord:
        """The row of ``issuers``; ``NotFoundError`` if none."""
        rows = self._read("SELECT * FROM issuers WHERE id = ?", (issuer_id,))
        if not rows:
            raise NotFoundError("no such issuer", issuer=issuer_id)
        return _issuer(rows[0])

    def find_issuer_by_did(self, did: str) -> IssuerRecord | None:
        """The issuer with that DID, or ``None``."""
        rows = self._read("SELECT * FROM issuers WHERE did = ?", (did,))
        return _issuer(rows[0]) if rows else None

    def list_issuers(self) -> list[IssuerRecord]:
        """Every issuer, oldest ``created`` first (ties by id)."""
        return [_issuer(r) for r in self._read("SELECT * FROM issuers ORDER BY created, id")]

    def add_api_key(self, api_key: ApiKeyRecord) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction: ``NotFoundError`` if the key names an issuer
        not in ``issuers``, ``ConflictError`` for a key id already there; else insert and bump
        the trust version."""
        with self._write() as db:
            if (
                api_key.issuer_id is not None
                and not db.execute(
                    "SELECT 1 FROM issuers WHERE id = ?", (api_key.issuer_id,)
                ).fetchone()
            ):
                raise NotFoundError("no such issuer", issuer=api_key.issuer_id)
            try:
                _insert_key(db, api_key)
            except sqlite3.IntegrityError as exc:
                raise ConflictError("API key id already exists") from exc
            bump_trust_version(db)

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The row of ``api_keys`` (scopes stored space-separated), or ``None``."""
        rows = self._read("SELECT * FROM api_keys WHERE key_id = ?", (key_id,))
        if not rows:
            return None
        key_id_, secret_hash, issuer_id, scopes, created, revoked = rows[0]
        return ApiKeyRecord(
            key_id_,
            bytes(secret_hash),
            issuer_id,
            frozenset(scopes.split()) if scopes else frozenset(),
            datetime.fromisoformat(created),
            bool(revoked),
        )

    def revoke_api_key(self, key_id: str) -> None:
        """Set ``revoked`` and bump the trust version in one ``BEGIN IMMEDIATE`` transaction;
        ``NotFoundError`` for an unknown key id (revoking twice is not an error)."""
        with self._write() as db:
            if (
                db.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,)).rowcount
                == 0
            ):
                raise NotFoundError("no such API key")
            bump_trust_version(db)

    # -- challenges -----------------------------------------------------------------------

    def create_challenge(self, value: str, purpose: str, expires: datetime) -> None:
        """Insert into ``purposed_challenges``; ``ConflictError`` if the value is already there."""
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO purposed_challenges VALUES (?, ?, ?)",
                    (value, purpose, expires.isoformat()),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError("challenge already exists") from exc

    def purge_challenges(self, expired_before: datetime) -> int:
        """Delete challenges whose UTC expiry is before ``expired_before``; return how many."""
        # Expiries are stored as ISO text in UTC (the service's clock), so text order is
        # time order.
        before = expired_before.astimezone(UTC).isoformat()
        with self._write() as db:
            cursor = db.execute("DELETE FROM purposed_challenges WHERE expires < ?", (before,))
        return int(cursor.rowcount)

    def consume_challenge(self, value: str, purpose: str, now: datetime) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction: read the challenge and delete it when its
        purpose matches (expired or not); then judge it (:func:`check_challenge`), raising
        ``InvalidChallengeError`` for unknown, other purpose or expired."""
        with self._write() as db:
            row = db.execute(
                "SELECT purpose, expires FROM purposed_challenges WHERE value = ?", (value,)
            ).fetchone()
            if row is not None and row[0] == purpose:
                db.execute("DELETE FROM purposed_challenges WHERE value = ?", (value,))
        check_challenge(
            None if row is None else (row[0], datetime.fromisoformat(row[1])), purpose, now
        )


def _insert_key(db: sqlite3.Connection, key: ApiKeyRecord) -> None:
    db.execute(
        "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?)",
        (
            key.key_id,
            key.secret_hash,
            key.issuer_id,
            " ".join(sorted(key.scopes)),
            key.created.isoformat(),
            int(key.revoked),
        ),
    )


def _issuer(row: tuple[Any, ...]) -> IssuerRecord:
    return IssuerRecord(row[0], row[1], row[2], bytes(row[3]), datetime.fromisoformat(row[4]))
