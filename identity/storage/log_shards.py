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

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import redis
from redis.client import Pipeline

from identity.errors import UnavailableError
from identity.log.shards import ShardRecord, check_add, check_freeze, check_seal
from identity.log.store import LogStore
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis_base import transact
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_log import RedisLogStore
from identity.storage.redis_log_keys import shard_catalog_key, shard_log_keys
from identity.storage.shard_catalog import (
    CATALOG_SCHEMA,
    parse_record,
    record_json,
    sqlite_catalog_add,
    sqlite_catalog_get,
)
from identity.storage.sqlite_log import SQLiteLogStore, shard_tables


class SQLiteShardCatalog:
    """The catalog in table ``log_shards`` of an SQLite file (durable: ``FULL`` sync)."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")

    def records(self) -> list[ShardRecord]:
        """Every row of ``log_shards`` by ``ord`` (empty until a first write makes the table)."""
        with self._lock:
            try:
                rows = self._db.execute("SELECT record FROM log_shards ORDER BY ord").fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                return []
        return [parse_record(r[0])[1] for r in rows]

    def _update(
        self, name: str, change: Callable[[ShardRecord | None], ShardRecord | None]
    ) -> None:
        """One ``BEGIN IMMEDIATE`` transaction: ``change`` the row of ``name`` (``None``
        back: nothing to write)."""
        with self._lock:
            self._db.execute(CATALOG_SCHEMA)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found = sqlite_catalog_get(self._db, name)
                changed = change(None if found is None else found[1])
                if changed is not None and found is None:
                    sqlite_catalog_add(self._db, changed)
                elif changed is not None and found is not None:
                    self._db.execute(
                        "UPDATE log_shards SET record = ? WHERE name = ?",
                        (record_json(changed, found[0]), name),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def add(self, record: ShardRecord) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction: :func:`check_add` on the row of that name, then
        insert at ``ord = max(ord) + 1``; ``ConflictError`` for another record of the name."""
        self._update(record.name, lambda found: record if check_add(found, record) else None)

    def seal(self, name: str) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction -- serialised with every act's, which reads
        the row in its own: :func:`check_seal`, then mark the row sealed."""
        self._update(name, partial(_sealed, name))

    def freeze(self, name: str, final: bytes) -> None:
        """In one ``BEGIN IMMEDIATE`` transaction: :func:`check_freeze` on the row, then write
        the final note into its record (``UnknownShardError``, ``ConflictError`` as the
        contract says)."""

        def change(found: ShardRecord | None) -> ShardRecord | None:
            if not check_freeze(found, name, final):
                return None
            assert found is not None
            return replace(found, final=final, sealed=True)

        self._update(name, change)

    def close(self) -> None:
        """Close the catalog's connection."""
        with self._lock:
            self._db.close()


class RedisShardCatalog:
    """The catalog in one Redis hash (name → JSON record); an add, seal or freeze is one
    ``WATCH``/``MULTI`` (:func:`~identity.storage.redis_base.transact`, on a standalone
    Redis or a cluster), so two replicas never write different records, and an act that
    read the catalog in its own ``WATCH`` fails its ``EXEC`` when a seal came between."""

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
        return [record for _, record in sorted(parse_record(v) for v in raw)]

    def _update(
        self, name: str, change: Callable[[ShardRecord | None], ShardRecord | None]
    ) -> None:
        """One ``MULTI``/``EXEC`` watching the hash: ``change`` the field ``name`` (a new one
        at ``order = HLEN``)."""

        def body(pipe: Pipeline) -> None:
            found = pipe.hget(self._key, name)
            existing = None if found is None else parse_record(found)
            changed = change(None if existing is None else existing[1])
            if changed is None:
                return
            order = pipe.hlen(self._key) if existing is None else existing[0]
            pipe.multi()
            pipe.hset(self._key, name, record_json(changed, order))

        transact(self._client, [self._key], body, 1)

    def add(self, record: ShardRecord) -> None:
        """:func:`check_add` on the field, then ``HSET`` it with ``order = HLEN``;
        ``ConflictError`` for another record of the name."""
        self._update(record.name, lambda found: record if check_add(found, record) else None)

    def seal(self, name: str) -> None:
        """:func:`check_seal`, then rewrite the field sealed (``order`` kept)."""
        self._update(name, partial(_sealed, name))

    def freeze(self, name: str, final: bytes) -> None:
        """:func:`check_freeze` on the field, then rewrite it with the final note."""

        def change(found: ShardRecord | None) -> ShardRecord | None:
            if not check_freeze(found, name, final):
                return None
            assert found is not None
            return replace(found, final=final, sealed=True)

        self._update(name, change)

    def close(self) -> None:
        """Nothing to release: the client is the caller's."""
        return None


def _sealed(name: str, found: ShardRecord | None) -> ShardRecord | None:
    """The sealed record of ``found`` (``None``: closed already), after :func:`check_seal`."""
    if not check_seal(found, name):
        return None
    assert found is not None
    return replace(found, sealed=True)


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
