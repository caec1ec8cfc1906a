"""Per-key locks: one act at a time on a DID, a catalog entry or a sharing request.

Correctness does not rest on them any more (issue #12): an act's record and its log entry
are one store transaction whose compare-and-swap refuses a stale act with no entry, in
any number of workers and replicas. The locks only spare a worker's racing requests on
one record the work of validating, signing and being refused: they queue instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    """An asyncio lock per key, made on first use and dropped when no task holds or awaits it;
    one event loop only (a worker's requests, not other processes)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock of ``key``; locks nobody holds or awaits are dropped."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]
