"""SQLite credentials and status lists (tables ``credentials``, ``status_groups``,
``status_lists``, ``status_indices``).

A record family of :class:`~identity.storage.sqlite.SqliteStore`, whose module states the
contract: each public write here is one ``BEGIN IMMEDIATE`` transaction, so a batch of
credentials or of reserved status indices is stored whole or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from identity.credentials.status import with_bit
from identity.errors import ConflictError, NotFoundError
from identity.storage.shard_admission import route_sqlite
from identity.storage.sqlite_base import SqliteRecords
from identity.storage.sqlite_log import admit_entries, next_entry_index, shard_tables
from identity.stores import Anchor, CredentialRecord, StatusListRecord, new_group_id, settle


class SqliteCredentials(SqliteRecords):
    """Issued credentials' records and the status lists their entries point into."""

    # -- credentials ----------------------------------------------------------------------

    def put_credential(self, record: CredentialRecord, anchor: Anchor | None = None) -> None:
        """:meth:`put_credentials` of one record; its ``ConflictError`` (id already recorded)
        is raised, with nothing written."""
        [outcome] = self.put_credentials([record], [anchor])
        if outcome is not None:
            raise outcome

    def put_credentials(
        self,
        records: Sequence[CredentialRecord],
        anchors: Sequence[Anchor | None] | None = None,
    ) -> list[ConflictError | None]:
        """One ``BEGIN IMMEDIATE`` transaction: ``INSERT OR IGNORE`` each row into ``credentials``
        and, for each inserted one with an anchor, its log entry into its shard's entries
        table (routed first, in this transaction: :func:`route_sqlite`); anchors are numbered
        after ``COMMIT``. An id already there gets a
        ``ConflictError`` in its slot (its anchor is not admitted); the others are stored."""
        outcomes: list[ConflictError | None] = []
        wanted = list(anchors) if anchors is not None else [None] * len(records)
        admitted: dict[str | None, tuple[int, list[Anchor]]] = {}  # per log shard
        with self._write() as db:
            route_sqlite(db, wanted)  # each shard's catalog row, in this transaction
            for r, anchor in zip(records, wanted, strict=True):
                index = r.log_index
                if anchor is not None:
                    if anchor.shard not in admitted:
                        admitted[anchor.shard] = (self._next_in(db, anchor.shard), [])
                    first, mine = admitted[anchor.shard]
                    index = first + len(mine)
                inserted = db.execute(
                    "INSERT OR IGNORE INTO credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.id,
                        r.digest,
                        r.issuer_id,
                        r.issuer_did,
                        r.type,
                        r.subject_id,
                        r.issued_at.isoformat(),
                        r.status_index,
                        index,
                        r.status_group,
                    ),
                ).rowcount
                if inserted and anchor is not None:
                    admitted[anchor.shard][1].append(anchor)
                outcomes.append(
                    None if inserted else ConflictError("credential already recorded", id=r.id)
                )
            for shard, (first, mine) in admitted.items():
                admit_entries(db, first, [a.entry for a in mine], shard_tables(shard))
        for first, mine in admitted.values():
            settle(mine, first)
        return outcomes

    @staticmethod
    def _next_in(db: sqlite3.Connection, shard: str | None) -> int:
        """The next index of log ``shard`` in this transaction (its table made if new)."""
        tables = shard_tables(shard)
        if shard is not None:
            db.execute(tables.entries_schema)
        return next_entry_index(db, tables)

    def iter_credentials(self) -> Iterator[CredentialRecord]:
        """Every record, in insertion order, read in pages of 5000 by ``rowid``: no read
        transaction is held across the scan, so rows added meanwhile may or may not appear."""
        last = -1
        while True:  # by rowid pages: no read transaction held across the whole scan
            rows = self._read(
                "SELECT rowid, * FROM credentials WHERE rowid > ? ORDER BY rowid LIMIT 5000",
                (last,),
            )
            if not rows:
                return
            last = rows[-1][0]
            yield from (_credential(r[1:]) for r in rows)

    def get_credential(self, credential_id: str) -> CredentialRecord:
        """The row of ``credentials`` with that id; ``NotFoundError`` if none."""
        rows = self._read("SELECT * FROM credentials WHERE id = ?", (credential_id,))
        if not rows:
            raise NotFoundError("no such credential", id=credential_id)
        return _credential(rows[0])

    def find_credential(self, credential_id: str) -> CredentialRecord | None:
        """The row of ``credentials`` with that id, or ``None``."""
        rows = self._read("SELECT * FROM credentials WHERE id = ?", (credential_id,))
        return _credential(rows[0]) if rows else None

    def credentials_of_subject(self, subject_id: str) -> list[CredentialRecord]:
        """The subject's rows, ordered by ``issued_at`` then insertion (one snapshot read)."""
        rows = self._read(
            "SELECT * FROM credentials WHERE subject_id = ? ORDER BY issued_at, rowid",
            (subject_id,),
        )
        return [_credential(r) for r in rows]

    def find_credential_by_digest(self, digest: bytes) -> CredentialRecord | None:
        """The first-inserted row with that SHA-256 ``digest`` (index ``credentials_digest``), or
        ``None``."""
        rows = self._read(
            "SELECT * FROM credentials WHERE digest = ? ORDER BY rowid LIMIT 1", (digest,)
        )
        return _credential(rows[0]) if rows else None

    def count_credentials(self) -> int:
        """``COUNT(*)`` of table ``credentials``."""
        return int(self._read("SELECT COUNT(*) FROM credentials")[0][0])

    # -- status lists -------------------------------------------------------------------

    def reserve_status_indices(
        self,
        issuer_id: str,
        count: int,
        pick: Callable[[int], int],
        size: int,
        purposes: Sequence[str],
    ) -> list[tuple[str, int]]:
        """In one ``BEGIN IMMEDIATE`` transaction: take ``count`` indices from the issuer's open
        group, retrying ``pick`` until ``INSERT OR IGNORE`` into ``status_indices`` inserts; a
        group at half-full is closed and a new one (with a zeroed list per purpose) opened."""
        out: list[tuple[str, int]] = []
        with self._write() as db:
            while len(out) < count:
                group, group_size = self._open_group(db, issuer_id, size, purposes)
                index = pick(group_size)
                if db.execute(
                    "INSERT OR IGNORE INTO status_indices VALUES (?, ?)", (group, index)
                ).rowcount:
                    db.execute("UPDATE status_groups SET taken = taken + 1 WHERE id = ?", (group,))
                    out.append((group, index))
        return out

    @staticmethod
    def _open_group(
        db: sqlite3.Connection, issuer_id: str, size: int, purposes: Sequence[str]
    ) -> tuple[str, int]:
        row = db.execute(
            "SELECT id, size, taken FROM status_groups WHERE issuer_id = ? AND open = 1",
            (issuer_id,),
        ).fetchone()
        if row is not None and row[2] * 2 < row[1]:
            return str(row[0]), int(row[1])
        if row is not None:
            db.execute("UPDATE status_groups SET open = 0 WHERE id = ?", (row[0],))
        count = db.execute("SELECT COUNT(*) FROM status_groups").fetchone()[0]
        group = new_group_id(issuer_id, count)
        db.execute(
            "INSERT INTO status_groups (id, issuer_id, size) VALUES (?, ?, ?)",
            (group, issuer_id, size),
        )
        for purpose in purposes:
            db.execute(
                "INSERT INTO status_lists VALUES (?, ?, ?, 0)", (group, purpose, bytes(size // 8))
            )
        return group, size

    def get_status_list(self, group: str, purpose: str) -> StatusListRecord:
        """The list's bits, version and issuer (``status_lists`` joined with ``status_groups``);
        ``NotFoundError`` if there is no such list."""
        rows = self._read(
            "SELECT l.bits, l.version, g.issuer_id FROM status_lists l "
            "JOIN status_groups g ON g.id = l.group_id WHERE l.group_id = ? AND l.purpose = ?",
            (group, purpose),
        )
        if not rows:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        bits, version, issuer_id = rows[0]
        return StatusListRecord(group, purpose, issuer_id, bytes(bits), int(version))

    def status_list_version(self, group: str, purpose: str) -> int:
        """The ``version`` of one row of ``status_lists``; ``NotFoundError`` if none."""
        rows = self._read(
            "SELECT version FROM status_lists WHERE group_id = ? AND purpose = ?", (group, purpose)
        )
        if not rows:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        return int(rows[0][0])

    def set_status(
        self, group: str, purpose: str, index: int, value: bool, anchor: Anchor | None = None
    ) -> int:
        """In the act's ``BEGIN IMMEDIATE`` transaction (with its log entry): set bit ``index``
        of the list if the index was reserved (``status_indices``) and bump ``version``; an
        unchanged bit leaves the version. ``NotFoundError`` for an unreserved index."""
        with self._anchored(anchor) as (db, _):
            row = db.execute(
                "SELECT l.bits, l.version FROM status_lists l JOIN status_indices i "
                "ON i.group_id = l.group_id AND i.idx = ? WHERE l.group_id = ? AND l.purpose = ?",
                (index, group, purpose),
            ).fetchone()
            if row is None:
                raise NotFoundError("no such status list entry", group=group, index=index)
            bits, version = with_bit(bytes(row[0]), index, value), int(row[1])
            if bits is None:
                return version
            db.execute(
                "UPDATE status_lists SET bits = ?, version = ? WHERE group_id = ? AND purpose = ?",
                (bits, version + 1, group, purpose),
            )
            return version + 1


def _credential(row: tuple[Any, ...]) -> CredentialRecord:
    return CredentialRecord(
        id=row[0],
        digest=bytes(row[1]),
        issuer_id=row[2],
        issuer_did=row[3],
        type=row[4],
        subject_id=row[5],
        issued_at=datetime.fromisoformat(row[6]),
        status_index=row[7],
        log_index=row[8],
        status_group=row[9],
    )
