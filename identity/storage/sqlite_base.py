"""SQLite plumbing shared by the SQLite stores: connections, transactions, reads.

The contract (durability, one transaction per public write, one connection per thread)
is stated in :mod:`identity.storage.sqlite`; this module implements it:
:class:`ThreadConnections` opens every connection in WAL mode with the configured
``synchronous`` level, :func:`write_transaction` wraps a write in ``BEGIN IMMEDIATE`` …
``COMMIT`` (``ROLLBACK`` when it raises), :func:`read_rows` reads one consistent
snapshot, and :class:`SqliteRecords` is the base every record-family mixin of
:class:`~identity.storage.sqlite.SqliteStore` builds on.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

from identity.errors import UnavailableError
from identity.storage.shard_admission import route_sqlite
from identity.storage.sqlite_log import (
    ENTRIES_SCHEMA,
    admit_entries,
    next_entry_index,
    shard_tables,
)
from identity.stores import Anchor, settle

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def check_synchronous(mode: str) -> str:
    """``mode`` upper-cased; ValueError unless it is one of :data:`SYNCHRONOUS_MODES`."""
    if mode.upper() not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}")
    return mode.upper()


class ThreadConnections:
    """One connection per thread to ``path`` (autocommit, WAL, ``synchronous``, foreign
    keys, 5 s busy timeout); :meth:`close` closes them all, later calls open new ones."""

    def __init__(self, path: str, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened (WAL, ``synchronous``, foreign keys, busy timeout)
        on first use; ``UnavailableError`` if SQLite cannot open the file."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self.synchronous}")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA busy_timeout=5000")
            except sqlite3.Error as exc:
                raise UnavailableError(f"cannot open the SQLite store: {exc}") from exc
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection opened so far, by any thread; the next :meth:`get` opens anew."""
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` when the body raises.

    Every ``sqlite3`` failure -- a busy database (``BEGIN`` timed out), an error the body
    did not handle, a failed ``COMMIT`` -- is :class:`UnavailableError`, raised after the
    transaction is rolled back so the connection stays usable.
    """
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise UnavailableError(f"SQLite store is busy: {exc}") from exc
    try:
        yield db
        db.execute("COMMIT")
    except BaseException as exc:
        if db.in_transaction:
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise UnavailableError(f"SQLite write failed: {exc}") from exc
        raise


def read_rows(
    db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """All rows of one statement (one implicit read transaction: a consistent snapshot)."""
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise UnavailableError(f"SQLite read failed: {exc}") from exc


def bump_trust_version(db: sqlite3.Connection) -> None:
    """Grow the trust version (table ``versions``) inside the write transaction ``db``
    of a write that changes trust records: it commits or rolls back with that write."""
    db.execute(
        "INSERT INTO versions (name, value) VALUES ('trust', 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + 1"
    )


class SqliteRecords:
    """Plumbing every record family of :class:`~identity.storage.sqlite.SqliteStore`
    shares: one connection per thread to ``path``, write transactions, snapshot reads.

    ``SCHEMA`` (``CREATE … IF NOT EXISTS`` statements) is run on the first connection,
    with the log's entries table: acts admit their log entries into this same file, in
    their own transaction (:meth:`_anchored`).
    """

    SCHEMA: ClassVar[str] = ""

    def __init__(self, path: Path | str, *, synchronous: str = "FULL") -> None:
        self.path = str(path)
        self.synchronous = check_synchronous(synchronous)
        self._connections = ThreadConnections(self.path, self.synchronous)
        if self.SCHEMA:
            try:
                self._conn().executescript(self.SCHEMA + ENTRIES_SCHEMA)
            except sqlite3.Error as exc:
                raise UnavailableError(f"cannot create the SQLite schema: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with write_transaction(self._conn()) as db:
            yield db

    @contextmanager
    def _anchored(self, anchor: Anchor | None) -> Iterator[tuple[sqlite3.Connection, int | None]]:
        """One write transaction for an act: yields ``(db, index)`` -- ``index`` is the log
        index ``anchor``'s entry gets (``None`` without an anchor); the entry is inserted
        after the body, before ``COMMIT``, and ``anchor.index`` set once committed. A body
        that raises leaves neither the record nor the entry. An anchor naming a log shard
        is routed first, in this transaction (:func:`route_sqlite`: refused when the shard
        is frozen, spilled to the next split when it is full)."""
        with self._write() as db:
            route_sqlite(db, [anchor])
            tables = shard_tables(anchor.shard if anchor is not None else None)
            if anchor is not None and anchor.shard is not None:
                db.execute(tables.entries_schema)  # a shard's first act makes its table
            first = next_entry_index(db, tables) if anchor is not None else None
            yield db, first
            if anchor is not None and first is not None:
                admit_entries(db, first, [anchor.entry], tables)
        if anchor is not None and first is not None:
            settle([anchor], first)

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return read_rows(self._conn(), sql, args)

    def close(self) -> None:
        """Close every thread's connection (:class:`ThreadConnections`); a later call reopens."""
        self._connections.close()
