"""Per-key locks: one act at a time on a DID, a catalog entry or a sharing request.

Acts are validated, then anchored in the log (an await), then stored with a
compare-and-swap. Without a lock, two acts on the same record in one worker would both
validate against the same state, both be anchored, and one would then fail its
compare-and-swap -- leaving a log entry for an act that was refused. Holding the record's
lock from the read to the store write makes that impossible within a worker; across
replicas the store's compare-and-swap still keeps every history linear (see README).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
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
