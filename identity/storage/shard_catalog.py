"""The log-shard catalog's records as stored, and the catalog pieces a record store
reads inside an act's own transaction (:mod:`identity.storage.shard_admission`): the JSON
of a record, the SQLite table ``log_shards`` read and added to on the caller's
connection, and the memory backend's catalog. The catalogs themselves are in
:mod:`identity.storage.log_shards`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from dataclasses import replace

from identity.log.shards import ShardRecord, check_add, check_freeze, check_seal
from identity.storage.memory_log import MemoryLogStore


def record_json(record: ShardRecord, order: int) -> str:
    """A catalog record as stored (JSON; ``order`` is its place in the catalog). The
    cluster's admission script (:mod:`identity.storage.redis_spread`) writes the same
    fields."""
    return json.dumps(
        {
            "name": record.name,
            "label": record.label,
            "seq": record.seq,
            "origin": record.origin,
            "final": None if record.final is None else record.final.decode(),
            "order": order,
            "sealed": record.sealed,
            "limit": record.limit,
        }
    )


def parse_record(text: str | bytes) -> tuple[int, ShardRecord]:
    """``(order, record)`` of a stored catalog record (records written before shards were
    sealed or limited read as unsealed, without a limit)."""
    data = json.loads(text)
    final = data["final"]
    record = ShardRecord(
        data["name"],
        data["label"],
        int(data["seq"]),
        data["origin"],
        None if final is None else final.encode(),
        bool(data.get("sealed")),
        None if data.get("limit") is None else int(data["limit"]),
    )
    return int(data["order"]), record


class MemoryShardCatalog:
    """The catalog in a dict (not durable: for tests and the memory backend). Memory
    record stores admit under :attr:`lock` (:mod:`identity.storage.shard_admission`)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        """Held by :meth:`add`, :meth:`seal`, :meth:`freeze` and by a memory record store
        around an act's admission, so a seal is before or after it, never inside."""
        self.by_name: dict[str, ShardRecord] = {}
        """The records by name, in the order added (read and added to under :attr:`lock`)."""

    def records(self) -> list[ShardRecord]:
        """Every shard in the order added (a dict keeps insertion order), under the lock."""
        with self.lock:
            return list(self.by_name.values())

    def add(self, record: ShardRecord) -> None:
        """Under the lock, :func:`check_add` then store: ``ConflictError`` for another record of
        that name, a no-op for an equal one."""
        with self.lock:
            if check_add(self.by_name.get(record.name), record):
                self.by_name[record.name] = record

    def seal(self, name: str) -> None:
        """Under the lock, :func:`check_seal` then mark the record sealed."""
        with self.lock:
            existing = self.by_name.get(name)
            if check_seal(existing, name):
                assert existing is not None
                self.by_name[name] = replace(existing, sealed=True)

    def freeze(self, name: str, final: bytes) -> None:
        """Under the lock, :func:`check_freeze` then store the final note: ``UnknownShardError``
        for a name never added, ``ConflictError`` when frozen with another note."""
        with self.lock:
            existing = self.by_name.get(name)
            if check_freeze(existing, name, final):
                assert existing is not None
                self.by_name[name] = replace(existing, final=final, sealed=True)

    def close(self) -> None:
        """Nothing to release."""
        return None


_MEMORY_CATALOGS: weakref.WeakKeyDictionary[MemoryLogStore, MemoryShardCatalog] = (
    weakref.WeakKeyDictionary()
)


def memory_catalog(root: MemoryLogStore) -> MemoryShardCatalog:
    """The memory backend's catalog of the shards beside ``root`` (one per memory log,
    the same each time): the sharded log's and the memory record stores' admitting into
    ``root``'s shards."""
    return _MEMORY_CATALOGS.setdefault(root, MemoryShardCatalog())


CATALOG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS log_shards("
    "ord INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, record TEXT NOT NULL)"
)
"""The SQLite catalog table (in the records' file, so an act reads it in its own
transaction)."""


def sqlite_catalog_get(db: sqlite3.Connection, name: str) -> tuple[int, ShardRecord] | None:
    """``(order, record)`` of shard ``name`` read on ``db`` (inside the caller's
    transaction), ``None`` when the catalog lacks it or has no table yet."""
    try:
        row = db.execute("SELECT record FROM log_shards WHERE name = ?", (name,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        return None
    return None if row is None else parse_record(row[0])


def sqlite_catalog_add(db: sqlite3.Connection, record: ShardRecord) -> None:
    """Insert ``record`` at the catalog's end, inside the caller's write transaction on
    ``db`` (the name must be new)."""
    db.execute(CATALOG_SCHEMA)
    order = db.execute("SELECT coalesce(max(ord) + 1, 0) FROM log_shards").fetchone()[0]
    db.execute(
        "INSERT INTO log_shards VALUES (?, ?, ?)", (order, record.name, record_json(record, order))
    )
