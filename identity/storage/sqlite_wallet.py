"""SQLite wallet store: table ``wallet`` in the service's database file.

Each write is one ``BEGIN IMMEDIATE`` transaction (:meth:`SqliteWalletStore.keep_many`: one
for the whole batch), with the durability of :mod:`identity.storage.sqlite`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from identity.errors import ConflictError
from identity.storage.sqlite_base import SqliteRecords
from identity.wallet_store import WalletEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS wallet (
    credential_id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    sealed BLOB NOT NULL,
    kept_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wallet_by_subject ON wallet (subject_id);
"""


def _entry(row: tuple[Any, ...]) -> WalletEntry:
    cid, subject, sealed, kept_at = row
    return WalletEntry(cid, subject, bytes(sealed), datetime.fromisoformat(kept_at))


class SqliteWalletStore(SqliteRecords):
    """:class:`~identity.wallet_store.WalletStore` in SQLite."""

    SCHEMA = SCHEMA

    def keep(self, entry: WalletEntry) -> None:
        """Insert the row of ``wallet``; ``ConflictError`` for a credential id already kept (by
        any subject)."""
        [refused] = self.keep_many([entry])
        if refused is not None:
            raise refused

    def keep_many(self, entries: Sequence[WalletEntry]) -> list[ConflictError | None]:
        """One ``BEGIN IMMEDIATE`` transaction of ``INSERT OR IGNORE`` rows: a row that
        inserted nothing (its id already kept, or earlier in ``entries``) is a
        ``ConflictError`` in its slot."""
        outcomes: list[ConflictError | None] = []
        with self._write() as db:
            for entry in entries:
                inserted = db.execute(
                    "INSERT OR IGNORE INTO wallet VALUES (?, ?, ?, ?)",
                    (entry.credential_id, entry.subject_id, entry.sealed,
                     entry.kept_at.isoformat()),
                ).rowcount  # fmt: skip
                outcomes.append(
                    None
                    if inserted
                    else ConflictError("credential already kept", id=entry.credential_id)
                )
        return outcomes

    def find(self, subject_id: str, credential_id: str) -> WalletEntry | None:
        """The entry only if that subject kept it (another subject's credential is ``None``)."""
        rows = self._read(
            "SELECT * FROM wallet WHERE credential_id = ? AND subject_id = ?",
            (credential_id, subject_id),
        )
        return _entry(rows[0]) if rows else None

    def of_subject(self, subject_id: str) -> list[WalletEntry]:
        """The subject's entries (index ``wallet_by_subject``), oldest ``kept_at`` first, ties in
        insertion order."""
        rows = self._read("SELECT * FROM wallet WHERE subject_id = ? ORDER BY rowid", (subject_id,))
        return sorted((_entry(r) for r in rows), key=lambda e: e.kept_at)
