"""SQLite backend, the embedded default (stdlib ``sqlite3``, WAL journal).

Durability: ``synchronous=FULL`` (the default here) fsyncs the WAL at every commit, so a
write that returned survives power loss; ``NORMAL`` survives a crash of the process but
may lose the last transactions on power loss. Each public write is one transaction
(``BEGIN IMMEDIATE`` … ``COMMIT``), so a failed call leaves nothing behind.

One connection per thread: SQLite connections must not be shared across threads, and WAL
lets readers proceed while one writer commits.

The plumbing (:class:`ThreadConnections`, :func:`write_transaction`, :func:`read_rows`) is
in :mod:`identity.storage.sqlite_base` and re-exported here; the store's methods are
grouped by record family in :mod:`~identity.storage.sqlite_issuers` (issuers, API keys,
challenges), :mod:`~identity.storage.sqlite_credentials` (credentials, status lists) and
:mod:`~identity.storage.sqlite_registry` (credential types, accreditations).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Collection

from identity.storage.sqlite_base import (
    SYNCHRONOUS_MODES,
    SqliteRecords,
    ThreadConnections,
    check_synchronous,
    read_rows,
    write_transaction,
)
from identity.storage.sqlite_credentials import SqliteCredentials
from identity.storage.sqlite_issuers import SqliteIssuers
from identity.storage.sqlite_registry import SqliteRegistry
from identity.stores import StoreVersions, check_version_reads

__all__ = [
    "SCHEMA",
    "SYNCHRONOUS_MODES",
    "SqliteRecords",
    "SqliteStore",
    "ThreadConnections",
    "check_synchronous",
    "read_rows",
    "write_transaction",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS issuers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    did TEXT NOT NULL UNIQUE,
    sealed_key BLOB NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    issuer_id TEXT REFERENCES issuers(id),
    scopes TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    digest BLOB NOT NULL,
    issuer_id TEXT NOT NULL,
    issuer_did TEXT NOT NULL,
    type TEXT NOT NULL,
    subject_id TEXT,
    issued_at TEXT NOT NULL,
    status_index INTEGER,
    log_index INTEGER,
    status_group TEXT
);
CREATE TABLE IF NOT EXISTS status_groups (
    id TEXT PRIMARY KEY,
    issuer_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    taken INTEGER NOT NULL DEFAULT 0,
    open INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS status_lists (
    group_id TEXT NOT NULL REFERENCES status_groups(id),
    purpose TEXT NOT NULL,
    bits BLOB NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, purpose)
);
CREATE TABLE IF NOT EXISTS status_indices (
    group_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (group_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credential_types (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created TEXT
);
CREATE TABLE IF NOT EXISTS accreditations (
    id TEXT PRIMARY KEY,
    issuer_id TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accreditations_issuer ON accreditations(issuer_id);
-- Challenges are bound to their purpose (identity/stores.py, ChallengeStore). The
-- table of earlier versions held none; its unused challenges (5 minutes) are dropped.
DROP TABLE IF EXISTS challenges;
CREATE TABLE IF NOT EXISTS purposed_challenges (
    value TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS credentials_subject ON credentials(subject_id);
CREATE INDEX IF NOT EXISTS credentials_digest ON credentials(digest);
-- Counters that caches key on; ``trust`` grows with every write to issuers, API keys,
-- credential types and accreditations (identity/stores.py, TrustVersioned).
CREATE TABLE IF NOT EXISTS versions (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


INDEXED_VERSION_READS = 32
"""Up to this many lists, :meth:`SqliteStore.read_versions` looks each up by its key (an
``OR`` of them: SQLite searches the index once per term); more would exceed SQLite's
expression depth and cost more than one scan of ``status_lists``, which it does instead."""


@functools.cache
def versions_sql(lists: int) -> str:
    """The statement of :meth:`SqliteStore.read_versions` for ``lists`` lists (placeholders
    only: every value is bound): each list by its primary key (an ``OR`` of lookups) for
    up to :data:`INDEXED_VERSION_READS`, one scan of ``status_lists`` beyond."""
    sql = "SELECT NULL, NULL, value FROM versions WHERE name = 'trust'"
    if lists:
        sql += " UNION ALL SELECT group_id, purpose, version FROM status_lists WHERE "
        if lists <= INDEXED_VERSION_READS:
            sql += " OR ".join(["(group_id = ? AND purpose = ?)"] * lists)
        else:
            sql += "(group_id, purpose) IN (VALUES " + ", ".join(["(?, ?)"] * lists) + ")"
    return sql


def _flat(pairs: list[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(itertools.chain.from_iterable(pairs))


class SqliteStore(SqliteIssuers, SqliteCredentials, SqliteRegistry):
    """The service's records in one SQLite file (``<data_dir>/identity.sqlite3``)."""

    SCHEMA = SCHEMA

    def ping(self) -> None:
        """``SELECT 1`` on this thread's connection; ``UnavailableError`` if it fails."""
        self._read("SELECT 1")

    def trust_version(self) -> int:
        """The ``trust`` row of table ``versions`` (0 before the first trust write), read in
        one snapshot."""
        rows = self._read("SELECT value FROM versions WHERE name = 'trust'")
        return int(rows[0][0]) if rows else 0

    def read_versions(self, lists: Collection[tuple[str, str]]) -> StoreVersions:
        """One statement (one read snapshot, :func:`versions_sql`): the ``trust`` row of
        ``versions`` and the ``version`` of each listed row of ``status_lists``."""
        check_version_reads(lists)
        pairs = list(lists)
        trust, found = 0, {}
        for group, purpose, value in self._read(versions_sql(len(pairs)), _flat(pairs)):
            if group is None:
                trust = int(value)
            else:
                found[(group, purpose)] = int(value)
        return StoreVersions(trust, found)
