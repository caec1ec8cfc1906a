"""The service's log shards (docs/log-shards.md): their backend, signer, and what the
shard routes serve.

* :func:`open_shard_backend` -- the catalog and per-shard stores on the configured
  storage: SQLite (table ``log_shards`` and each shard's ``log_shard_<name>_…`` tables in
  the records' file, where acts admit their entries), Redis (hash ``<prefix>log:shards``,
  each shard's keys in the records' slot on a cluster), memory (the shards of the record
  stores' memory log).
* :func:`shard_signer` -- every shard signs with the log's one key (from the master
  secret and ``IDENTITY_LOG_ORIGIN``) under the shard's own origin as its key name: an
  auditor pins ``GET /log/key`` once and follows every shard; a checkpoint of one shard
  never verifies as another's (the name is in the signature's key ID and the note).
* :func:`open_sharded_log` -- the :class:`~identity.log.shards.ShardedLog` of the
  settings.
* :class:`ShardSet` -- what ``GET /log/shards`` and ``/log/{shard}/…`` serve: every
  shard in the catalog (or exported to ``IDENTITY_LOG_SHARDS_DIR``), a frozen shard's
  export read from its files after a full audit against its final checkpoint (no store
  read), any other from its store.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Protocol

from identity.errors import NotFoundError
from identity.log.checkpoint import NoteSigner, NoteVerifier
from identity.log.reader import LogReader
from identity.log.shards import (
    SHARD_NAME,
    ShardCatalog,
    ShardedLog,
    ShardPolicy,
    ShardRecord,
    UnknownShardError,
)
from identity.log.store import LogStore
from identity.storage.log_shards import (
    RedisShardCatalog,
    SQLiteShardCatalog,
    drop_redis_shard,
    drop_sqlite_shard,
    memory_shard_stores,
    redis_shard_stores,
    sqlite_shard_tables,
)
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis_cluster import connect, is_cluster_url
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_log import RedisLogStore
from identity.storage.shard_catalog import memory_catalog
from identity.storage.static_log import load_static_log
from service.audit import FolderAuditSource
from service.log import log_key
from service.settings import Settings
from service.storage import REDIS_SCHEMES, redis_options, sqlite_path

OpenStore = Callable[[str], LogStore]


class ShardedLogLike(Protocol):
    """Anything that yields its shards as (name, origin, frozen, reader), oldest first."""

    def shard_readers(self) -> Iterator[tuple[str, str, bool, LogReader]]:
        """Every shard, ready to read."""
        ...


def shard_policy(settings: Settings) -> ShardPolicy:
    """The boundaries the settings ask for."""
    return ShardPolicy(
        settings.log_shard_period, settings.log_shard_max_entries, settings.log_shard_grace_s
    )


def shard_signer(settings: Settings, master_secret: bytes) -> Callable[[str], NoteSigner]:
    """``signer_for(origin)``: the log's key, named after the shard's origin."""
    key = log_key(master_secret, settings.log_origin)
    return lambda origin: NoteSigner(origin, key)


def shard_verifier(verifier: NoteVerifier, origin: str) -> NoteVerifier:
    """The verifier of shard ``origin`` from the log's pinned verifier (same key)."""
    return NoteVerifier(origin, verifier.public_key, verifier.sig_type)


@dataclass
class ShardBackend:
    """A catalog and per-shard stores on one storage; :meth:`close` closes its client."""

    catalog: ShardCatalog
    open_store: OpenStore
    close: Callable[[], None] = lambda: None
    drop: Callable[[str], object] = lambda name: None
    """Delete a (frozen, exported) shard's live data: its tables or keys."""


def open_shard_backend(settings: Settings, memory: MemoryLogStore | None = None) -> ShardBackend:
    """The shard catalog and stores on the configured storage (see the module doc);
    ``memory`` is the memory backend's log, whose shards the record stores admit into."""
    url = settings.resolved_storage_url
    if url.startswith("sqlite:///"):
        path = sqlite_path(url, data_dir=settings.data_dir)
        catalog = SQLiteShardCatalog(path)
        stores = sqlite_shard_tables(path, settings.sqlite_synchronous)
        return ShardBackend(catalog, stores, catalog.close, partial(drop_sqlite_shard, path))
    if url.startswith(REDIS_SCHEMES):
        client = connect(url, settings.redis_timeout_s)
        durable = is_cluster_url(url) or settings.redis_min_replicas > 0
        options = redis_options(settings)
        del options["socket_timeout"]  # the client's, set above
        open_log = partial(DurableRedisLogStore, **options) if durable else RedisLogStore
        return ShardBackend(
            RedisShardCatalog(client, settings.redis_prefix),  # type: ignore[arg-type]
            redis_shard_stores(client, settings.redis_prefix, open_log),
            client.close,
            partial(drop_redis_shard, client, settings.redis_prefix),
        )
    root = memory or MemoryLogStore()
    return ShardBackend(memory_catalog(root), memory_shard_stores(root))


def open_sharded_log(
    settings: Settings,
    master_secret: bytes,
    backend: ShardBackend,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ShardedLog:
    """The sharded log of the settings on ``backend`` (start it with ``await .start()``)."""
    return ShardedLog(
        shard_policy(settings),
        settings.log_origin,
        backend.catalog,
        backend.open_store,
        shard_signer(settings, master_secret),
        clock=clock,
        max_batch=settings.log_batch_size,
        max_delay_ms=settings.log_batch_ms,
        max_lag_s=settings.log_max_lag_s,
    )


@dataclass
class ServedShard:
    """One shard as served: its record, verifier, reader and where it is read from."""

    record: ShardRecord
    verifier: NoteVerifier
    reader: LogReader
    source: str
    """``files`` (an exported frozen shard) or ``store``."""


@dataclass
class ShardSet:
    """Every shard of the log, for the read routes; readers are opened on first use.

    ``verifier`` is the log's (``GET /log/key``); ``folder`` the exported shards
    (``IDENTITY_LOG_SHARDS_DIR``), preferred for a frozen shard exported there."""

    base_origin: str
    verifier: NoteVerifier
    open_backend: Callable[[], ShardBackend]
    """Opened on first use (an app that never serves a shard opens nothing)."""
    folder: Path | None = None
    _served: dict[str, ServedShard] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _backend: ShardBackend | None = None

    @property
    def backend(self) -> ShardBackend:
        """The catalog and stores, opened on first use."""
        if self._backend is None:
            self._backend = self.open_backend()
        return self._backend

    def origin(self, name: str) -> str:
        """Shard ``name``'s origin: the base origin with ``/<name>`` (e.g. ``…/log/2026``)."""
        return f"{self.base_origin.rstrip('/')}/{name}"

    def _exported(self, name: str) -> Path | None:
        if self.folder is None:
            return None
        path = self.folder / name
        return path if (path / "checkpoint").is_file() else None

    def records(self) -> list[ShardRecord]:
        """The catalog's shards, then any exported one the catalog lacks (a shard
        whose store was dropped after export), oldest first."""
        records = self.backend.catalog.records()
        known = {r.name for r in records}
        if self.folder is not None and self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                name = path.name
                if name not in known and SHARD_NAME.fullmatch(name) and self._exported(name):
                    records.append(ShardRecord(name, "", 0, self.origin(name), b""))
        return records

    def get(self, name: str) -> ServedShard:
        """Shard ``name`` ready to read; :class:`UnknownShardError` if there is none."""
        if not SHARD_NAME.fullmatch(name):
            raise UnknownShardError("no log shard of that name", shard=name[:40])
        with self._lock:
            served = self._served.get(name)
            if served is not None and served.record.frozen:
                return served
            record = next((r for r in self.records() if r.name == name), None)
            if record is None:
                raise UnknownShardError("no log shard of that name", shard=name)
            if served is not None and not (record.frozen and self._exported(name)):
                served.record = record  # same store; the record may say frozen now
                return served
            if served is not None:
                served.reader.store.close()
            served = self._served[name] = self._open(record)
            return served

    def _open(self, record: ShardRecord) -> ServedShard:
        verifier = shard_verifier(self.verifier, record.origin)
        exported = self._exported(record.name)
        if record.frozen and exported is not None:
            final = record.final or None  # b"": known only from its files
            reader = load_static_log(FolderAuditSource(exported), verifier, record.origin, final)
            return ServedShard(record, verifier, reader, "files")
        reader = LogReader(self.backend.open_store(record.name), verifier, record.origin)
        with contextlib.suppress(NotFoundError):  # nothing signed yet: said per request
            reader.checkpoint()
        return ServedShard(record, verifier, reader, "store")

    def shard_readers(self) -> Iterator[tuple[str, str, bool, LogReader]]:
        """Every shard (:class:`ShardedLogLike`), for export and audits."""
        for record in self.records():
            served = self.get(record.name)
            yield record.name, record.origin, served.record.frozen, served.reader

    def close(self) -> None:
        """Close every opened shard reader and the backend."""
        with self._lock:
            for served in self._served.values():
                served.reader.store.close()
            self._served.clear()
            if self._backend is not None:
                self._backend.close()
                self._backend = None


def build_shard_set(
    settings: Settings, verifier: NoteVerifier, memory: MemoryLogStore | None = None
) -> ShardSet:
    """The app's shard set: the configured backend, the log's verifier, the export folder
    (``memory``: the memory backend's log, see :func:`open_shard_backend`)."""
    return ShardSet(
        settings.log_origin,
        verifier,
        lambda: open_shard_backend(settings, memory),
        settings.log_shards_dir,
    )
