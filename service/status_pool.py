"""Status-list indices handed out from memory, reserved in the store ahead of need.

An index is reserved durably (:meth:`identity.stores.CredentialStore.reserve_status_indices`,
one write for a batch) before it is handed out, so the store never hands one out twice;
an index this process reserved and never used (a crash, a stop) stays unused. What this
module adds: the next batch is reserved in the background once an issuer's pool falls
below a quarter of a batch, so an issuance waits for the store only when the pool ran dry
(a burst larger than that quarter, or the first issuance after start). Before, every
``batch``-th issuance waited for a durable write while holding one lock that every
issuance of every agency in the worker queued behind (docs/performance.md, *Issuance,
third pass*).

One reservation is in flight per agency at a time; a caller that needs an index while it
runs awaits it (shielded: a cancelled caller does not cancel the reservation). A failed
reservation is the error of the callers that awaited it (:class:`UnavailableError`, a 503);
a background one that nobody awaited is logged, and the next caller with an empty pool
tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

events = logging.getLogger("identity.events")

Reserve = Callable[[str, int], list[tuple[str, int]]]
"""``reserve(issuer_id, count)``: ``count`` fresh ``(group, index)`` pairs, durably taken
(blocking: it runs in a worker thread)."""


class IndexPool:
    """Per agency, indices reserved ahead (see the module); ``batch`` a reservation."""

    def __init__(self, reserve: Reserve, batch: int) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self._reserve = reserve
        self.batch = batch
        self.low = max(1, batch // 4)
        """A pool shorter than this starts the next reservation."""
        self._pools: dict[str, deque[tuple[str, int]]] = {}
        self._refills: dict[str, asyncio.Task[None]] = {}
        self.reservations = 0
        """Reservations made (for tests and benchmarks)."""

    def available(self, issuer_id: str) -> int:
        """Indices waiting in ``issuer_id``'s pool."""
        return len(self._pools.get(issuer_id, ()))

    async def take(self, issuer_id: str) -> tuple[str, int]:
        """A fresh ``(group, index)`` of ``issuer_id``'s, reserved in the store."""
        pool = self._pools.setdefault(issuer_id, deque())
        while not pool:
            await asyncio.shield(self._refill(issuer_id))
        taken = pool.popleft()
        if len(pool) < self.low:
            self._refill(issuer_id)
        return taken

    def _refill(self, issuer_id: str) -> asyncio.Task[None]:
        """The agency's reservation in flight on this loop, started if there is none."""
        loop = asyncio.get_running_loop()
        task = self._refills.get(issuer_id)
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(self._reserve_into(issuer_id))
            task.add_done_callback(_note_failure)
            self._refills[issuer_id] = task
        return task

    async def _reserve_into(self, issuer_id: str) -> None:
        got = await asyncio.to_thread(self._reserve, issuer_id, self.batch)
        self.reservations += 1
        self._pools.setdefault(issuer_id, deque()).extend(got)


def _note_failure(task: asyncio.Task[None]) -> None:
    """Retrieve a reservation's error (its awaiting callers got it too) and log it once."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        events.warning(
            "status indices could not be reserved",
            extra={"fields": {"event": "status.reserve_failed", "error": type(error).__name__}},
        )
