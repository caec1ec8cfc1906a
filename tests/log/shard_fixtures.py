"""Shared fixtures of the shard tests and the shard benchmark: a sharded log on each
backend, a settable clock, and a LogReader seen as an audit source."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from identity.keys import Ed25519PrivateKey
from identity.log.checkpoint import NoteSigner
from identity.log.reader import LogReader
from identity.log.shards import ShardCatalog, ShardedLog, ShardPolicy
from identity.log.store import LogStore
from identity.storage.log_shards import (
    RedisShardCatalog,
    SQLiteShardCatalog,
    memory_shard_stores,
    redis_shard_stores,
    sqlite_shard_stores,
)
from identity.storage.shard_catalog import MemoryShardCatalog

BASE_ORIGIN = "identity.example/log"
BOUNDARY = datetime(2027, 1, 1, tzinfo=UTC)


class Clock:
    """A clock the test moves (UTC)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def shard_signer(origin: str) -> NoteSigner:
    """A deterministic signer per shard origin (as the service derives one per origin)."""
    seed = bytes((len(origin) + i) % 256 for i in range(31)) + origin.encode()[-1:]
    return NoteSigner(origin, Ed25519PrivateKey(seed))


@dataclass
class Backend:
    """A catalog and shard-store factory of one backend, reopenable (for restarts)."""

    name: str
    catalog: Callable[[], ShardCatalog]
    stores: Callable[[], Callable[[str], LogStore]]
    drop: Callable[[], None]
    """Delete every shard's stored data (the store is 'gone')."""

    def sharded(self, policy: ShardPolicy, clock: Clock, **options: Any) -> ShardedLog:
        options.setdefault("max_delay_ms", 1.0)
        return ShardedLog(
            policy,
            BASE_ORIGIN,
            self.catalog(),
            self.stores(),
            shard_signer,
            clock=clock,
            **options,
        )


@contextmanager
def backend(kind: str, tmp_path: Path) -> Iterator[Backend]:
    """The backend ``kind`` (``memory``, ``sqlite``, ``redis``) with fresh state."""
    if kind == "memory":
        catalog, stores = MemoryShardCatalog(), memory_shard_stores()
        yield Backend(kind, lambda: catalog, lambda: stores, lambda: None)
    elif kind == "sqlite":
        folder = tmp_path / "shards"

        def drop() -> None:
            for path in folder.glob("log-*"):
                path.unlink()

        yield Backend(
            kind,
            lambda: SQLiteShardCatalog(tmp_path / "catalog.sqlite3"),
            lambda: sqlite_shard_stores(folder),
            drop,
        )
    else:
        from tests.storage.redis_backends import new_prefix, real_redis

        prefix = new_prefix()
        with real_redis(prefix) as client:

            def drop_redis() -> None:
                for key in client.scan_iter(match=prefix + "shard/*", count=1000):
                    client.delete(key)

            yield Backend(
                kind,
                lambda: RedisShardCatalog(client, prefix),
                lambda: redis_shard_stores(client, prefix),
                drop_redis,
            )


class ReaderSource:
    """A :class:`LogReader` as an :class:`~identity.log.auditor.AuditSource`."""

    def __init__(self, reader: LogReader) -> None:
        self.reader = reader

    def checkpoint(self) -> bytes:
        return self.reader.checkpoint().note

    def tile(self, path: str) -> bytes:
        return self.reader.tile(path).data
