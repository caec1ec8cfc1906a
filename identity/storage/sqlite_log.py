"""SQLite :class:`~identity.log.store.LogStore`: stdlib ``sqlite3``, WAL, one writer.

Layout (tables are prefixed ``log_`` so the file can be shared with other records):

* ``log_meta(key, value)`` -- ``origin``, ``public_key``, ``checkpoint``;
* ``log_entries(idx INTEGER PRIMARY KEY, data)`` -- one row per entry, keyed by rowid;
* ``log_tiles(id INTEGER PRIMARY KEY, hashes)`` -- the stored hashes in 256-hash chunks,
  ``id = level << 48 | chunk``; chunks at levels ``8·L`` *are* the tlog tiles. About
  ``2 × 32`` bytes per entry plus a few bytes of row overhead per 8 KiB blob;
* ``log_leaf_slots(id INTEGER PRIMARY KEY, packed)`` -- to find an entry by its leaf hash:
  leaves are grouped in buckets of :data:`LEAF_BUCKET` indices and, inside a bucket, in
  256 slots by the hash's first byte; ``id = bucket << 8 | slot`` and ``packed`` holds one
  5-byte record per leaf: its index within the bucket (uint16) and the hash's bytes 1-3.
  Candidates are confirmed against the stored leaf hash. Integration appends to about 256
  small rows of the newest bucket per batch, whatever the log's size (a row per leaf in a
  ``(prefix, idx)`` index cost a B-tree insert, most of a durable append, and a random
  page once the log was large: the append rate fell as the log grew, issue #12); a lookup
  reads one row per bucket (``n / 65536``). Files of earlier releases
  (``log_leaf_index``) are migrated when opened.

Each :meth:`append_entries` and :meth:`integrate` is one ``BEGIN IMMEDIATE`` transaction;
``synchronous=FULL`` (default) makes a returned commit survive power loss. Full chunks
never change, so they are cached in memory (bounded; the lowest levels are evicted
first, since every proof shares the upper ones).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from identity.errors import ConflictError, LogIntegrityError, NotFoundError, UnavailableError
from identity.log.hashing import HASH_SIZE
from identity.log.proofs import Address
from identity.log.tiles import TILE_HEIGHT, TILE_WIDTH
from identity.log.tree import NodeRun

CHUNK_BYTES = TILE_WIDTH * HASH_SIZE


@dataclass(frozen=True, slots=True)
class LogTables:
    """The table names of one log in a file: ``log_entries`` … for the unsharded log,
    ``log_shard_<name>_entries`` … for log shard ``name`` (:func:`shard_tables`), so the
    shards of a sharded log live in the records' own file and an act admits its entry
    into its shard in the act's own transaction."""

    prefix: str = "log_"

    @property
    def entries(self) -> str:
        """The entries table: ``(idx INTEGER PRIMARY KEY, data BLOB)``."""
        return self.prefix + "entries"

    @property
    def meta(self) -> str:
        """The key/value table: ``origin``, ``public_key`` and the latest ``checkpoint``."""
        return self.prefix + "meta"

    @property
    def tiles(self) -> str:
        """The hash table: one row per 256-hash chunk, ``id = level << 48 | chunk``."""
        return self.prefix + "tiles"

    @property
    def slots(self) -> str:
        """The leaf-hash index: 5-byte records per ``bucket << 8 | first hash byte`` row."""
        return self.prefix + "leaf_slots"

    @property
    def entries_schema(self) -> str:
        """The entries table, also created by the record stores that admit acts into it."""
        return (
            f"CREATE TABLE IF NOT EXISTS {self.entries}"
            "(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);"
        )

    @property
    def schema(self) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for all four tables of this log."""
        return self.entries_schema + (
            f"CREATE TABLE IF NOT EXISTS {self.meta}"
            "(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
            f"CREATE TABLE IF NOT EXISTS {self.tiles}"
            "(id INTEGER PRIMARY KEY, hashes BLOB NOT NULL);"
            f"CREATE TABLE IF NOT EXISTS {self.slots}"
            "(id INTEGER PRIMARY KEY, packed BLOB NOT NULL);"
        )

    @property
    def insert_entry(self) -> str:
        """Insert one entry: parameters ``(idx, data)``."""
        return f"INSERT INTO {self.entries}(idx, data) VALUES (?, ?)"  # noqa: S608

    @property
    def insert_packed_entries(self) -> str:
        """Insert a batch in one statement: parameters ``(first, blob, len(blob), starts)``
        (:func:`packed_entries`); entry ``k`` is ``blob[starts[k]:starts[k + 1]]`` at index
        ``first + k`` (``json_each`` yields the array in order, ``key`` is ``k``)."""
        return (
            f"INSERT INTO {self.entries}(idx, data) SELECT ?1 + key, "  # noqa: S608
            "coalesce(substr(?2, value + 1, lead(value, 1, ?3) OVER (ORDER BY key) - value), "
            "x'') FROM json_each(?4)"  # substr of an empty blob is NULL, not x''
        )

    @property
    def append_slot(self) -> str:
        """Append records to a slot row. SQLite's ``||`` makes TEXT of two BLOBs (the bytes
        kept, typed text): cast back, or Python's reader fails to decode the row. Rows written
        as TEXT by earlier releases are read through the same cast
        (:meth:`SQLiteLogStore.find_leaf`)."""
        return (
            f"INSERT INTO {self.slots}(id, packed) VALUES (?, ?) "  # noqa: S608
            "ON CONFLICT(id) DO UPDATE SET packed = CAST(packed || excluded.packed AS BLOB)"
        )


UNSHARDED = LogTables()
"""The unsharded log's tables (``log_entries``, ``log_meta``, ``log_tiles``, ``log_leaf_slots``)."""


def shard_tables(shard: str | None) -> LogTables:
    """The tables of log shard ``shard`` (a :data:`~identity.log.shards.SHARD_NAME`:
    digits, ``-`` and ``.``), or :data:`UNSHARDED` for ``None``: ``2026-03.1`` →
    ``log_shard_2026_03__1_…`` (``-`` → ``_``, ``.`` → ``__``: one name, one prefix)."""
    if shard is None:
        return UNSHARDED
    if not shard or not all(c.isdigit() or c in "-." for c in shard):
        raise ValueError("a log shard name is digits, '-' and '.'")
    return LogTables("log_shard_" + shard.replace(".", "__").replace("-", "_") + "_")


ENTRIES_SCHEMA = UNSHARDED.entries_schema
"""The unsharded entries table, also created by the record stores that admit acts into this file."""
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
MMAP_BYTES = 1 << 32
"""Reads go through a memory map of up to this much of the file (no read() per page)."""
LEAF_BUCKET_BITS = 16
LEAF_BUCKET = 1 << LEAF_BUCKET_BITS
"""Leaves per bucket of the leaf-hash index."""
_RECORD = 5


@functools.cache
def _big_endian_u16() -> bytes:
    """Every index within a bucket as 2 big-endian bytes, in order (128 KiB, made once)."""
    return b"".join(i.to_bytes(2, "big") for i in range(LEAF_BUCKET))


def leaf_slot_rows(start: int, hashes: bytes) -> list[tuple[int, bytes]]:
    """The ``log_leaf_slots`` additions for the leaf hashes ``hashes`` (concatenated) of
    indices ``start, start + 1, …``: ``(id, records)`` with ``id = bucket << 8 | slot``,
    each slot's records in index order.

    A bucket at a time: the 5-byte records are laid out by strided slice assignment
    (index high and low byte, hash bytes 1-3), then appended to their slot's row; the
    same rows as building each record by itself (:func:`leaf_slot_rows_one_by_one`,
    proved equal by ``tests/storage/test_sqlite_log_fast.py``)."""
    out: list[tuple[int, bytes]] = []
    count = len(hashes) // HASH_SIZE
    done = 0
    while done < count:
        index = start + done
        bucket, local = index >> LEAF_BUCKET_BITS, index & (LEAF_BUCKET - 1)
        take = min(count - done, LEAF_BUCKET - local)
        part = hashes[done * HASH_SIZE : (done + take) * HASH_SIZE]
        records = bytearray(_RECORD * take)
        u16 = _big_endian_u16()
        records[0::_RECORD] = u16[2 * local : 2 * (local + take) : 2]
        records[1::_RECORD] = u16[2 * local + 1 : 2 * (local + take) : 2]
        for byte in (1, 2, 3):
            records[byte + 1 :: _RECORD] = part[byte::HASH_SIZE]
        slots = [bytearray() for _ in range(256)]
        for slot, at in zip(part[0::HASH_SIZE], range(0, len(records), _RECORD), strict=True):
            slots[slot] += records[at : at + _RECORD]
        out += [(bucket << 8 | slot, bytes(row)) for slot, row in enumerate(slots) if row]
        done += take
    return out


def leaf_slot_rows_one_by_one(start: int, hashes: bytes) -> list[tuple[int, bytes]]:
    """:func:`leaf_slot_rows` one record at a time: the literal form (tests, benchmark)."""
    rows: dict[int, bytearray] = {}
    for at in range(0, len(hashes), HASH_SIZE):
        index = start + at // HASH_SIZE
        key = (index >> LEAF_BUCKET_BITS) << 8 | hashes[at]
        record = (index & (LEAF_BUCKET - 1)).to_bytes(2, "big") + hashes[at + 1 : at + 4]
        packed = rows.get(key)
        if packed is None:
            rows[key] = bytearray(record)
        else:
            packed += record
    return [(key, bytes(packed)) for key, packed in rows.items()]


def leaf_slot_candidates(bucket: int, packed: bytes, leaf_hash: bytes) -> list[int]:
    """Indices in one slot row whose leaf hash may be ``leaf_hash`` (bytes 0-3 agree)."""
    tag = leaf_hash[1:4]
    out = []
    at = packed.find(tag)
    while at >= 0:
        if at % _RECORD == 2:
            out.append(bucket << LEAF_BUCKET_BITS | int.from_bytes(packed[at - 2 : at], "big"))
            at = packed.find(tag, at + 3)
        else:
            at = packed.find(tag, at + 1)
    return out


def next_entry_index(db: sqlite3.Connection, tables: LogTables = UNSHARDED) -> int:
    """The index the next admitted entry gets (call inside the write transaction)."""
    first: int = db.execute(
        f"SELECT coalesce(max(idx) + 1, 0) FROM {tables.entries}"  # noqa: S608
    ).fetchone()[0]
    return first


def admit_entries(
    db: sqlite3.Connection, first: int, entries: Sequence[bytes], tables: LogTables = UNSHARDED
) -> None:
    """Insert ``entries`` at ``first, first + 1, …`` inside the caller's write transaction
    (``first`` from :func:`next_entry_index` in the same transaction).

    One statement for the whole batch (:func:`packed_entries`: the entries concatenated,
    their start offsets as a JSON array; SQLite cuts them apart with ``substr``), so the
    insert runs in C without the GIL. ``executemany`` binds each row in Python and takes
    the GIL back after every row's step: against a busy event loop that halved the
    commit rate (issue #12, item 6). The rows are those of :func:`admit_entries_one_by_one`
    (``tests/storage/test_sqlite_log_fast.py``)."""
    if len(entries) == 1:
        db.execute(tables.insert_entry, (first, entries[0]))
    elif entries:
        db.execute(tables.insert_packed_entries, (first, *packed_entries(entries)))


def packed_entries(entries: Sequence[bytes]) -> tuple[bytes, int, str]:
    """``(blob, len(blob), starts)``: the entries concatenated and the JSON array of each
    one's start offset in ``blob`` (the parameters of
    :attr:`LogTables.insert_packed_entries` after the first index)."""
    blob = b"".join(entries)
    starts = "[0" + "".join(map(",%d".__mod__, accumulate(map(len, entries[:-1])))) + "]"
    return blob, len(blob), starts


def admit_entries_one_by_one(
    db: sqlite3.Connection, first: int, entries: Sequence[bytes], tables: LogTables = UNSHARDED
) -> None:
    """:func:`admit_entries` as one bound row per entry: the literal form (tests, benchmark)."""
    db.executemany(
        tables.insert_entry, zip(range(first, first + len(entries)), entries, strict=True)
    )


@contextmanager
def sqlite_errors(action: str) -> Iterator[None]:
    """Every ``sqlite3`` failure inside (a busy or locked file, an I/O error, a file that
    is not a database, a missing table, a closed connection) as :class:`UnavailableError`
    naming ``action``: the domain error the service maps to 503, as
    :mod:`identity.storage.sqlite_base` does for the record stores."""
    try:
        yield
    except sqlite3.Error as exc:
        raise UnavailableError(f"the SQLite log store cannot {action}: {exc}") from exc


def _chunk_id(level: int, chunk: int) -> int:
    return level << 48 | chunk


class SQLiteLogStore:
    """A durable log store in one SQLite file. Thread-safe (one connection, one lock)."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        index_leaves: bool = True,
        cache_chunks: int = 16384,
        tables: LogTables = UNSHARDED,
        busy_timeout_ms: int = 10_000,
    ) -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {_SYNCHRONOUS}")
        with sqlite_errors("open its file"):
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
                # several worker processes share the file
                self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
                self._db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")  # proofs read random chunks
                self._db.executescript(tables.schema)
            except sqlite3.Error:
                self._db.close()
                raise
        self._t = tables
        self._lock = threading.Lock()
        self._migrate_leaf_index()
        self._index_leaves = index_leaves
        self._cache: dict[int, bytes] = {}
        self._cached_ids: dict[int, list[int]] = {}
        self._cache_max = cache_chunks

    def _migrate_leaf_index(self) -> None:
        """Move an earlier release's ``log_leaf_index(prefix, idx)`` (the leaf hash's first
        4 bytes as a signed int) into the slots, in one transaction."""
        if self._t != UNSHARDED:
            return
        with sqlite_errors("read its schema"):
            old = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_leaf_index'"
            ).fetchone()
        if old is None:
            return
        with self._transaction() as db:  # UnavailableError if busy: the open fails, retried
            rows: dict[int, bytearray] = {}
            for prefix, index in db.execute("SELECT prefix, idx FROM log_leaf_index ORDER BY idx"):
                head = int(prefix).to_bytes(4, "big", signed=True)
                key = (index >> LEAF_BUCKET_BITS) << 8 | head[0]
                record = (index & (LEAF_BUCKET - 1)).to_bytes(2, "big") + head[1:]
                rows.setdefault(key, bytearray()).extend(record)
            db.executemany(self._t.append_slot, ((k, bytes(v)) for k, v in rows.items()))
            db.execute("DROP TABLE log_leaf_index")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` under the lock; ``ROLLBACK`` when the body
        raises. A ``sqlite3`` failure anywhere (``BEGIN`` timed out on a busy file, a
        statement, ``COMMIT``) is :class:`UnavailableError`, raised after the rollback so
        the connection stays usable; nothing of the transaction is stored."""
        with self._lock:
            with sqlite_errors("begin a write (the file is busy)"):
                self._db.execute("BEGIN IMMEDIATE")
            try:
                with sqlite_errors("write"):
                    yield self._db
                    self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise

    def _meta(self, key: str) -> bytes | None:
        row = self._db.execute(
            f"SELECT value FROM {self._t.meta} WHERE key = ?",  # noqa: S608
            (key,),
        ).fetchone()
        return None if row is None else bytes(row[0])

    def open(self, origin: str, public_key: bytes) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction: record ``origin`` and ``public_key`` in the meta
        table on first open, else ``LogIntegrityError`` unless they are the stored ones."""
        with self._transaction() as db:
            stored = (self._meta("origin"), self._meta("public_key"))
            if stored == (None, None):
                db.executemany(
                    f"INSERT INTO {self._t.meta}(key, value) VALUES (?, ?)",  # noqa: S608
                    [("origin", origin.encode()), ("public_key", bytes(public_key))],
                )
            elif stored != (origin.encode(), bytes(public_key)):
                raise LogIntegrityError("this store holds another log")

    def append_entries(self, entries: Sequence[bytes]) -> int:
        """In one ``BEGIN IMMEDIATE`` transaction: the next index is ``max(idx) + 1`` read inside
        it, so concurrent writers (threads or processes) get disjoint ranges."""
        with self._transaction() as db:
            first = next_entry_index(db, self._t)
            admit_entries(db, first, entries, self._t)
            return first

    def entry_count(self) -> int:
        """``max(idx) + 1`` of the entries table (0 when empty): sequenced, integrated or not."""
        with self._lock, sqlite_errors("read its entry count"):
            count: int = self._db.execute(
                f"SELECT coalesce(max(idx) + 1, 0) FROM {self._t.entries}"  # noqa: S608
            ).fetchone()[0]
            return count

    def read_entries(self, start: int, end: int) -> list[bytes]:
        """One range read of the entries table; ``NotFoundError`` unless all of ``[start, end)``
        is there."""
        with self._lock, sqlite_errors("read entries"):
            rows = self._db.execute(
                f"SELECT data FROM {self._t.entries} WHERE idx >= ? AND idx < ? ORDER BY idx",  # noqa: S608
                (start, end),
            ).fetchall()
        if start < 0 or len(rows) != end - start:
            raise NotFoundError("entries not sequenced", start=start, end=end)
        return [bytes(r[0]) for r in rows]

    def _fetch(self, ids: Sequence[int], found: dict[int, bytes]) -> None:
        """Read the chunks ``ids`` (not cached) into ``found``, caching the full ones.
        The caller holds the lock."""
        for at in range(0, len(ids), 500):
            part = ids[at : at + 500]
            if len(part) == 1:
                rows = self._db.execute(
                    f"SELECT id, hashes FROM {self._t.tiles} WHERE id = ?",  # noqa: S608
                    part,
                ).fetchall()
            else:
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT id, hashes FROM {self._t.tiles} WHERE id IN ({marks})",  # noqa: S608
                    part,
                ).fetchall()
            for chunk_id, raw in rows:
                found[chunk_id] = blob = bytes(raw)
                self._remember(chunk_id, blob)

    def _chunks(self, ids: set[int]) -> dict[int, bytes]:
        with self._lock, sqlite_errors("read stored hashes"):
            cache = self._cache
            found = {i: cache[i] for i in ids if len(cache.get(i, b"")) == CHUNK_BYTES}
            missing = sorted(ids - found.keys())
            if missing:
                self._fetch(missing, found)
            return found

    def _remember(self, chunk_id: int, blob: bytes) -> None:
        """Cache a chunk. Stored hashes never change, they only grow at the end of their
        level: a full chunk is cached for good, a partial one holds for every index it
        covers (:meth:`read_nodes` reads it again for one beyond). When full, the lowest
        level goes first: every proof shares the upper levels, while a low-level chunk
        serves few leaves."""
        level = chunk_id >> 48
        if chunk_id in self._cache:  # a partial chunk read again, longer now
            self._cache[chunk_id] = blob
            return
        if len(self._cache) >= self._cache_max:
            lowest = min((lvl for lvl, keys in self._cached_ids.items() if keys), default=None)
            if lowest is None or lowest >= level:
                return  # never churn: a chunk only displaces one of a lower level
            while self._cached_ids[lowest] and len(self._cache) >= self._cache_max:
                self._cache.pop(self._cached_ids[lowest].pop(), None)
        self._cache[chunk_id] = blob
        self._cached_ids.setdefault(level, []).append(chunk_id)

    def read_nodes(self, addresses: Sequence[Address]) -> list[bytes]:
        """The hashes from their chunks, cached ones first (a cached partial chunk too short
        for an index is read again); ``LogIntegrityError`` for any hash not stored."""
        ids = [level << 48 | index >> TILE_HEIGHT for level, index in addresses]
        ends = [((index & (TILE_WIDTH - 1)) + 1) * HASH_SIZE for _level, index in addresses]
        with self._lock:
            blobs: list[bytes | None] = list(map(self._cache.get, ids))
            for at, (blob, end) in enumerate(zip(blobs, ends, strict=False)):
                if blob is not None and len(blob) < end:  # beyond a cached partial chunk
                    blobs[at] = None
            if None in blobs:
                found: dict[int, bytes] = {}
                with sqlite_errors("read stored hashes"):
                    self._fetch(
                        list(
                            dict.fromkeys(i for i, b in zip(ids, blobs, strict=False) if b is None)
                        ),
                        found,
                    )
                blobs = [
                    found.get(i, b"") if b is None else b for i, b in zip(ids, blobs, strict=False)
                ]
        out = [blob[end - HASH_SIZE : end] for blob, end in zip(blobs, ends, strict=False)]  # type: ignore[index]
        for (level, index), value in zip(addresses, out, strict=False):
            if index < 0 or len(value) != HASH_SIZE:
                raise LogIntegrityError("a needed stored hash is missing", level=level, index=index)
        return out

    def read_hash_tile(self, level: int, index: int) -> bytes:
        """Stored chunk ``(level, index)``: up to 256 hashes, ``b""`` if none; via the cache."""
        return self._chunks({_chunk_id(level, index)}).get(_chunk_id(level, index), b"")

    def find_leaf(self, leaf_hash: bytes, below: int) -> int | None:
        """Candidates from the leaf-slot rows of ``leaf_hash``'s first byte in every bucket
        below ``below``, each confirmed against its stored leaf hash; ``NotFoundError`` if
        the store was opened with ``index_leaves=False``."""
        if not self._index_leaves:
            raise NotFoundError("this log store does not index leaf hashes")
        if below <= 0:
            return None
        ids = [b << 8 | leaf_hash[0] for b in range(((below - 1) >> LEAF_BUCKET_BITS) + 1)]
        candidates: list[int] = []
        with self._lock, sqlite_errors("read the leaf-hash index"):
            for at in range(0, len(ids), 500):
                part = ids[at : at + 500]
                marks = ",".join("?" * len(part))
                for key, packed in self._db.execute(
                    f"SELECT id, CAST(packed AS BLOB) FROM {self._t.slots} "  # noqa: S608
                    f"WHERE id IN ({marks})",
                    part,
                ):
                    candidates += leaf_slot_candidates(key >> 8, bytes(packed), leaf_hash)
        for index in sorted(i for i in candidates if i < below):
            if self.read_nodes([(0, index)])[0] == leaf_hash:
                return index
        return None

    def stored_counts(self) -> dict[int, int]:
        """Per level: 256 per chunk row before the last, plus the last row's hash count."""
        with self._lock, sqlite_errors("read its level counts"):
            rows = self._db.execute(
                "SELECT m.level, m.n - 1, length(t.hashes) FROM "  # noqa: S608
                f"(SELECT id >> 48 AS level, count(*) AS n, max(id) AS last FROM {self._t.tiles} "
                f"GROUP BY id >> 48) m JOIN {self._t.tiles} t ON t.id = m.last"
            ).fetchall()
        return {int(lvl): int(full) * TILE_WIDTH + int(last) // HASH_SIZE
                for lvl, full, last in rows}  # fmt: skip

    def latest_checkpoint(self) -> bytes | None:
        """The ``checkpoint`` row of the meta table, or ``None`` before the first integrate."""
        with self._lock, sqlite_errors("read its checkpoint"):
            return self._meta("checkpoint")

    def _append_run(self, db: sqlite3.Connection, level: int, start: int, data: bytes) -> None:
        end = start + len(data) // HASH_SIZE
        at = start
        while at < end:
            chunk, offset = divmod(at, TILE_WIDTH)
            take = min(end, (chunk + 1) * TILE_WIDTH) - at
            part = data[(at - start) * HASH_SIZE : (at - start + take) * HASH_SIZE]
            row = db.execute(
                f"SELECT hashes FROM {self._t.tiles} WHERE id = ?",  # noqa: S608
                (_chunk_id(level, chunk),),
            ).fetchone()
            existing = b"" if row is None else bytes(row[0])
            if len(existing) != offset * HASH_SIZE:
                raise LogIntegrityError("stored hashes must grow contiguously", level=level)
            db.execute(
                f"INSERT OR REPLACE INTO {self._t.tiles}(id, hashes) VALUES (?, ?)",  # noqa: S608
                (_chunk_id(level, chunk), existing + part),
            )
            at += take

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction: CAS on the stored ``checkpoint`` (else
        ``ConflictError``), then append each run into its chunks (``LogIntegrityError`` if a
        run does not start at its level's end), index the new leaves, store ``checkpoint``."""
        with self._transaction() as db:
            if self._meta("checkpoint") != expected:
                raise ConflictError("the log's checkpoint moved on; reload and retry")
            for level, start, data in runs:
                self._append_run(db, level, start, data)
                if level == 0 and self._index_leaves:
                    db.executemany(self._t.append_slot, leaf_slot_rows(start, data))
            db.execute(
                f"INSERT OR REPLACE INTO {self._t.meta}(key, value) VALUES ('checkpoint', ?)",  # noqa: S608
                (checkpoint,),
            )

    def close(self) -> None:
        """Close the store's one connection."""
        with self._lock:
            self._db.close()
