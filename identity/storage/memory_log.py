"""The reference in-memory :class:`~identity.log.store.LogStore` (tests, benchmarks)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from identity.errors import ConflictError, LogIntegrityError, NotFoundError
from identity.log.hashing import HASH_SIZE
from identity.log.proofs import Address
from identity.log.tiles import TILE_WIDTH
from identity.log.tree import NodeArray, NodeRun
from identity.stores import Anchor


class MemoryLogStore:
    """Everything in Python lists and bytearrays, guarded by one lock. Not durable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._identity: tuple[str, bytes] | None = None
        self.entries: list[bytes] = []
        self.nodes = NodeArray()
        self._leaves: dict[bytes, int] = {}
        self.checkpoint: bytes | None = None
        self._shards: dict[str, MemoryLogStore] = {}
        self._shards_lock = threading.Lock()  # not the log's: taken while it is held

    def shard(self, name: str) -> MemoryLogStore:
        """The store of log shard ``name`` beside this (unsharded) log, the same each time
        (the memory backend's per-shard stores, shared by the record stores holding
        this log and by the sharded log's ``open_store``)."""
        with self._shards_lock:
            return self._shards.setdefault(name, MemoryLogStore())

    def of(self, anchor: Anchor | None) -> MemoryLogStore:
        """The store ``anchor``'s entry is admitted to: its shard's, or this one."""
        if anchor is None or anchor.shard is None:
            return self
        return self.shard(anchor.shard)

    def open(self, origin: str, public_key: bytes) -> None:
        """Under the lock: bind to ``(origin, public_key)`` on first open, else
        ``LogIntegrityError`` unless they are the bound ones."""
        with self._lock:
            if self._identity is None:
                self._identity = (origin, bytes(public_key))
            elif self._identity != (origin, public_key):
                raise LogIntegrityError("this store holds another log", origin=self._identity[0])

    def append_entries(self, entries: Sequence[bytes]) -> int:
        """Under the lock, append ``entries`` to the list; return the first index."""
        with self._lock:
            return self.admit_locked(entries)

    @property
    def lock(self) -> threading.Lock:
        """The store's lock: a record store holds it around an act and its admission."""
        return self._lock

    def admit_locked(self, entries: Sequence[bytes]) -> int:
        """Append ``entries``; the caller holds :attr:`lock`. Returns the first index."""
        first = len(self.entries)
        self.entries.extend(bytes(e) for e in entries)
        return first

    def entry_count(self) -> int:
        """``len(entries)``: sequenced entries, integrated or not."""
        return len(self.entries)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        """A copy of ``entries[start:end]``; ``NotFoundError`` unless all of it is sequenced."""
        with self._lock:
            if not 0 <= start <= end <= len(self.entries):
                raise NotFoundError("entries not sequenced", start=start, end=end)
            return self.entries[start:end]

    def read_nodes(self, addresses: Sequence[Address]) -> list[bytes]:
        """From the per-level bytearrays; ``LogIntegrityError`` for any hash not stored."""
        with self._lock:
            return self.nodes.read(addresses)

    def read_hash_tile(self, level: int, index: int) -> bytes:
        """The 256-hash slice of ``level`` from ``256·index`` (``b""`` past its end)."""
        with self._lock:
            if level >= len(self.nodes.levels):
                return b""
            at = index * TILE_WIDTH * HASH_SIZE
            return bytes(self.nodes.levels[level][at : at + TILE_WIDTH * HASH_SIZE])

    def find_leaf(self, leaf_hash: bytes, below: int) -> int | None:
        """The lowest integrated index with that hash (first seen wins), if below ``below``."""
        index = self._leaves.get(leaf_hash)
        return index if index is not None and index < below else None

    def stored_counts(self) -> dict[int, int]:
        """``len(level) // 32`` for every level with a hash."""
        with self._lock:
            return {lvl: self.nodes.count(lvl) for lvl in range(len(self.nodes.levels))}

    def latest_checkpoint(self) -> bytes | None:
        """The note stored by the last :meth:`integrate`, or ``None``."""
        return self.checkpoint

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        """Under the lock: CAS on the stored checkpoint (``ConflictError``); every run checked to
        start at its level's end (``LogIntegrityError``) before any is written; index new
        leaves; store ``checkpoint``."""
        with self._lock:
            if self.checkpoint != expected:
                raise ConflictError("the log's checkpoint moved on; reload and retry")
            self.nodes.write(runs)
            for level, start, data in runs:
                if level == 0:
                    for i in range(0, len(data), HASH_SIZE):
                        self._leaves.setdefault(data[i : i + HASH_SIZE], start + i // HASH_SIZE)
            self.checkpoint = checkpoint

    def close(self) -> None:
        """Nothing to release: the lists live as long as the object."""
        pass


@contextmanager
def admitting(log: MemoryLogStore, anchor: Anchor | None) -> Iterator[int]:
    """An act on a memory record store (which holds its own lock): holds ``log``'s lock,
    yields the index ``anchor``'s entry gets, and admits it after the body -- only if the
    body did not raise. ``anchor.index`` is set once admitted. An anchor naming a log
    shard is admitted to that shard's store (:meth:`MemoryLogStore.of`)."""
    log = log.of(anchor)
    with log.lock:
        first = len(log.entries)
        yield first
        if anchor is not None:
            log.admit_locked([anchor.entry])
    if anchor is not None:
        anchor.index = first
