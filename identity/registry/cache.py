"""A bounded cache of trust-record reads, exact across replicas (issue #15).

Issuers, API keys, credential types and accreditations are read on every verification
and issuance. The store keeps one counter, its trust version
(:meth:`identity.stores.TrustVersioned.trust_version`), grown in the same transaction as
every write that changes one of those records. :class:`VersionedCache` reads that
version once per use (:meth:`VersionedCache.snapshot`), *before* any record, and drops
everything it holds when the version moved. So an answer from the cache is never older
than the store's state when the version was read: a revocation committed on any replica
is seen by the next request that starts after it (stale bound: zero).

One snapshot per request: inside :meth:`VersionedCache.one_snapshot` every
:meth:`~VersionedCache.snapshot` of that cache in the same context (the task, and the
threads it hands work to with its context) is one snapshot, read at the first use, so a
request that authenticates and then checks issuer trust reads the version once.

Concurrency: a value is kept only when it was loaded under the newest version this
cache has seen, so a slow reader of an older version can never put an old value back
after a faster one dropped it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_MAX_ENTRIES = 4096
"""Entries kept at most (least recently used dropped first): a few per agency and key."""


class _Bound:
    """The snapshot :meth:`VersionedCache.one_snapshot` holds for its context (taken at the
    first use)."""

    __slots__ = ("cache", "read", "snapshot")

    def __init__(self, cache: VersionedCache, read: Callable[[], int] | None) -> None:
        self.cache = cache
        self.read = read
        self.snapshot: Snapshot | None = None


_BOUND: ContextVar[_Bound | None] = ContextVar("identity_versioned_snapshot", default=None)


class VersionedCache:
    """Values by key, valid while ``version()`` is unchanged; at most ``max_entries``."""

    def __init__(self, version: Callable[[], int], max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._version = version
        self._max = max_entries
        self._lock = threading.Lock()
        self._seen = -1
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> Snapshot:
        """Read the version (one store read) and answer lookups under it: use one snapshot
        for the reads of one request, never keep it longer. Inside :meth:`one_snapshot`
        the context's one snapshot (read now if this is its first use)."""
        bound = _BOUND.get()
        if bound is None or bound.cache is not self:
            return self._read()
        if bound.snapshot is None:
            bound.snapshot = self._read(bound.read)
        return bound.snapshot

    @contextmanager
    def one_snapshot(self, version: Callable[[], int] | None = None) -> Iterator[None]:
        """Within the block, :meth:`snapshot` of this cache answers one snapshot for the
        whole context: one version read for the whole request (none when nothing is
        read). A write made inside the block is not seen by later reads in it: use it
        only around requests that only read (verification). ``version``, when given,
        reads the version instead of the cache's own reader, at the same moment (the
        first use): a read that brings other versions along in the same store round trip
        (:meth:`identity.stores.VersionReads.read_versions`); it must read the same
        counter, never an older value."""
        token = _BOUND.set(_Bound(self, version))
        try:
            yield
        finally:
            _BOUND.reset(token)

    def _read(self, read: Callable[[], int] | None = None) -> Snapshot:
        version = (read or self._version)()
        with self._lock:
            if version > self._seen:
                self._entries.clear()
                self._seen = version
        return Snapshot(self, version)

    def get_under(
        self,
        version: int,
        key: Hashable,
        load: Callable[[], T],
        keep: Callable[[T], bool],
    ) -> T:
        """:meth:`Snapshot.get` for the snapshot taken at ``version``."""
        with self._lock:
            if version == self._seen and key in self._entries:
                self._entries.move_to_end(key)
                found: T = self._entries[key]
                return found
        value = load()
        if keep(value):
            with self._lock:
                if version == self._seen:  # no newer version dropped the entries meanwhile
                    self._entries[key] = value
                    while len(self._entries) > self._max:
                        self._entries.popitem(last=False)
        return value


class Snapshot:
    """Lookups under one read of the trust version (:meth:`VersionedCache.snapshot`)."""

    __slots__ = ("_cache", "_version")

    def __init__(self, cache: VersionedCache, version: int) -> None:
        self._cache = cache
        self._version = version

    def get(
        self,
        key: Hashable,
        load: Callable[[], T],
        keep: Callable[[T], bool] = lambda _: True,
    ) -> T:
        """The value for ``key``: cached, or ``load()`` (kept when ``keep(value)``, e.g.
        not for misses an attacker could fill the cache with). ``load`` raising keeps
        nothing."""
        return self._cache.get_under(self._version, key, load, keep)
