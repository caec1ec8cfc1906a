"""Where a sharded log keeps its catalog and each shard's store, on every backend.

* **memory** -- :class:`MemoryShardCatalog`, one :class:`MemoryLogStore` per shard.
* **SQLite** -- :class:`SQLiteShardCatalog` (table ``log_shards`` in the catalog's file);
  the service keeps each shard's tables in the records' own file
  (:func:`sqlite_shard_tables`: ``log_shard_<name>_entries`` …, so an act admits its entry
  into its shard in its own transaction, and :func:`drop_sqlite_shard` drops a frozen,
  exported shard's tables); :func:`sqlite_shard_stores` gives a log used on its own
  one file per shard (``<folder>/log-<name>.sqlite3``).
* **Redis** -- :class:`RedisShardCatalog` (hash ``<prefix>log:shards``), each shard a
  :class:`RedisLogStore` under :func:`~identity.storage.redis_log_keys.shard_log_keys`
  (in the records' slot on a cluster); :func:`drop_redis_shard` deletes a shard's keys.

The catalog contract is :class:`~identity.log.shards.ShardCatalog`'s.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from redis.client import Pipeline

from identity.errors import UnavailableError
from identity.log.shards import ShardRecord, check_add, check_freeze
from identity.log.store import LogStore
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis_base import transact
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_log import RedisLogStore
from identity.storage.redis_log_keys import shard_catalog_key, shard_log_keys
from identity.storage.sqlite_log import SQLiteLogStore, shard_tables


def _to_json(record: ShardRecord, order: int) -> str:
    return json.dumps(
        {
            "name": record.name,
            "label": record.label,
            "seq": record.seq,
            "origin": record.origin,
            "final": None if record.final is None else record.final.decode(),
            "order": order,
        }
    )


def _from_json(text: str | bytes) -> tuple[int, ShardRecord]:
    data = json.loads(text)
    final = data["final"]
    record = ShardRecord(
        data["name"],
        data["label"],
        data["seq"],
        data["origin"],
        None if final is None else final.encode(),
    )
    return int(data["order"]), record


class MemoryShardCatalog:
    """The catalog in a list (not durable: for tests and the memory backend)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, ShardRecord] = {}

    def records(self) -> list[ShardRecord]:
        """Every shard in the order added (a dict keeps insertion order), under the lock."""
        with self._lock:
            return list(self._records.values())

    def add(self, record: ShardRecord) -> None:
        """Under the lock, :func:`check_add` then store: ``ConflictError`` for another record of
        that name, a no-op for an equal one."""
        with self._lock:
            if check_add(self._records.get(record.name), record):
                self._records[record.name] = record

    def freeze(self, name: str, final: bytes) -> None:
        """Under the lock, :func:`check_freeze` then store the final note: ``UnknownShardError``
        for a name never added, ``ConflictError`` when frozen with another note."""
        with self._lock:
            existing = self._records.get(name)
            if check_freeze(existing, name, final):
                assert existing is not None
                self._records[name] = ShardRecord(
                    existing.name, existing.label, existing.seq, existing.origin, final
                )

    def close(self) -> None:
        """Nothing to release."""
        return None


class SQLiteShardCatalog:
    """The catalog in table ``log_shards`` of an SQLite file (durable: ``FULL`` sync)."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA synchronous=FULL")

    def _create(self) -> None:
        """Make the table with the first write (a log never sharded adds no table)."""
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS log_shards("
            "ord INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, record TEXT NOT NULL)"
        )

    def _get(self, name: str) -> tuple[int, ShardRecord] | None:
        row = self._db.execute("SELECT record FROM log_shards WHERE name = ?", (name,)).fetchone()
        return None if row is None else _from_json(row[0])

    def records(self) -> list[ShardRecord]:
        """Every row of ``log_shards`` by ``ord`` (empty until a first write makes the table)."""
        with self._lock:
            try:
                rows = self._db.execute("SELECT record FROM log_shards ORDER BY ord").fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                return []
        return [_from_json(r[0])[1] for r in rows]

    def add(self, record: ShardRecord) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction: :func:`check_add` on the row of that name, then
        insert at ``ord = max(ord) + 1``; ``ConflictError`` for another record of the name."""
        with self._lock:
            self._create()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found = self._get(record.name)
                if check_add(None if found is None else found[1], record):
                    order = self._db.execute(
                        "SELECT coalesce(max(ord) + 1, 0) FROM log_shards"
                    ).fetchone()[0]
                    self._db.execute(
                        "INSERT INTO log_shards VALUES (?, ?, ?)",
                        (order, record.name, _to_json(record, order)),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def freeze(self, name: str, final: bytes) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction: :func:`check_freeze` on the row, then write
        the final note into its record (``UnknownShardError``, ``ConflictError`` as the
        contract says)."""
        with self._lock:
            self._create()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found = self._get(name)
                if check_freeze(None if found is None else found[1], name, final):
                    assert found is not None
                    order, record = found
                    frozen = ShardRecord(
                        record.name, record.label, record.seq, record.origin, final
                    )
                    self._db.execute(
                        "UPDATE log_shards SET record = ? WHERE name = ?",
                        (_to_json(frozen, order), name),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the catalog's connection."""
        with self._lock:
            self._db.close()


_ADD = """
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found then return found end
local order = redis.call('HLEN', KEYS[1])
redis.call('HSET', KEYS[1], ARGV[1], string.format(ARGV[2], order))
return false
"""


class RedisShardCatalog:
    """The catalog in one Redis hash (name → JSON record); an add or freeze is one
    ``WATCH``/``MULTI`` (:func:`~identity.storage.redis_base.transact`, on a standalone
    Redis or a cluster), so two replicas never write different records."""

    def __init__(self, client: redis.Redis, prefix: str = "identity:") -> None:
        self._client = client
        self._key = shard_catalog_key(key_prefix(client, prefix))

    def _guard(self, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except redis.RedisError as exc:
            raise UnavailableError(
                f"Redis is unavailable: {type(exc).__name__}", retry_after=1
            ) from exc

    def records(self) -> list[ShardRecord]:
        """``HVALS`` of the catalog hash, sorted by each record's stored ``order``;
        ``UnavailableError`` when Redis fails."""
        raw = self._guard(lambda: self._client.hvals(self._key))
        return [record for _, record in sorted(_from_json(v) for v in raw)]

    def add(self, record: ShardRecord) -> None:
        """One ``MULTI``/``EXEC`` watching the catalog hash: :func:`check_add` on the field, then
        ``HSET`` it with ``order = HLEN``; ``ConflictError`` for another record of the name."""

        def body(pipe: Pipeline) -> None:
            found = pipe.hget(self._key, record.name)
            existing = None if found is None else _from_json(found)[1]
            if not check_add(existing, record):
                return
            order = pipe.hlen(self._key)
            pipe.multi()
            pipe.hset(self._key, record.name, _to_json(record, order))

        transact(self._client, [self._key], body, 1)

    def freeze(self, name: str, final: bytes) -> None:
        """One ``MULTI``/``EXEC`` watching the catalog hash: :func:`check_freeze` on the field,
        then rewrite it with the final note, ``order`` kept."""

        def body(pipe: Pipeline) -> None:
            found = pipe.hget(self._key, name)
            existing = None if found is None else _from_json(found)
            if not check_freeze(None if existing is None else existing[1], name, final):
                return
            assert existing is not None
            order, record = existing
            frozen = ShardRecord(record.name, record.label, record.seq, record.origin, final)
            pipe.multi()
            pipe.hset(self._key, name, _to_json(frozen, order))

        transact(self._client, [self._key], body, 1)

    def close(self) -> None:
        """Nothing to release: the client is the caller's."""
        return None


def memory_shard_stores(root: MemoryLogStore | None = None) -> Callable[[str], LogStore]:
    """``open_store`` for :class:`~identity.log.shards.ShardedLog`: one memory store per
    shard, the same one each time a name is asked for again -- ``root``'s shards
    (:meth:`MemoryLogStore.shard`, where memory record stores admit acts) when given."""
    stores = root or MemoryLogStore()
    return stores.shard


def sqlite_shard_file(folder: Path, name: str) -> Path:
    """The SQLite file of shard ``name`` in ``folder``."""
    return folder / f"log-{name}.sqlite3"


def sqlite_shard_stores(folder: Path, synchronous: str = "FULL") -> Callable[[str], LogStore]:
    """``open_store``: shard ``name`` in its own SQLite file in ``folder``."""

    def open_store(name: str) -> LogStore:
        folder.mkdir(parents=True, exist_ok=True)
        return SQLiteLogStore(sqlite_shard_file(folder, name), synchronous=synchronous)

    return open_store


def sqlite_shard_tables(path: Path, synchronous: str = "FULL") -> Callable[[str], LogStore]:
    """``open_store``: shard ``name`` in its own tables of the file ``path`` (the records'
    file, where acts admit their entries: :func:`~identity.storage.sqlite_log.shard_tables`)."""

    def open_store(name: str) -> LogStore:
        return SQLiteLogStore(path, synchronous=synchronous, tables=shard_tables(name))

    return open_store


def drop_sqlite_shard(path: Path, name: str) -> None:
    """Drop shard ``name``'s tables from ``path`` in one transaction (its live data, once
    it is frozen and exported: docs/log-shards.md)."""
    tables = shard_tables(name)
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        for table in (tables.entries, tables.meta, tables.tiles, tables.slots):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("COMMIT")
    finally:
        db.close()


def redis_shard_stores(
    client: Any, prefix: str, open_log: Callable[..., LogStore] = RedisLogStore
) -> Callable[[str], LogStore]:
    """``open_store``: shard ``name`` under ``shard_log_keys`` on ``client`` (``open_log``:
    the store class, e.g. the replica-acknowledged one on a cluster)."""

    def open_store(name: str) -> LogStore:
        return open_log(client, prefix, keys=shard_log_keys(key_prefix(client, prefix), name))

    return open_store


def drop_redis_shard(client: Any, prefix: str, name: str) -> int:
    """Delete every key of shard ``name`` (its live data, once frozen and exported);
    how many. The shard's keys share one slot, so this is one node's ``SCAN``."""
    base = shard_log_keys(key_prefix(client, prefix), name).base
    keys = list(client.scan_iter(match=base + "*", count=1000))
    for at in range(0, len(keys), 500):
        client.delete(*keys[at : at + 500])
    return len(keys)
