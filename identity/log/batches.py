"""The sequencer's batches: one future per durable transaction, not one per entry.

Every appender of a :class:`Batch` awaits the batch's single :class:`BatchFuture`, whose
result is the batch's first index; an appender's index is that plus its offset in the
batch. Waking the appenders costs the event loop one callback each (that is what an
``await`` costs), but nothing else is made or resolved per entry -- before issue #12's
append-rate work, one future per entry and a Python loop resolving them took about a
tenth of the sequencer's time.

A shared future must not be cancelled by one of its waiters (that would fail every
other appender of the batch, whose entries are durable): :meth:`BatchFuture.cancel`
refuses, so a cancelled appender's task gets its ``CancelledError`` when its batch has
committed (or failed) -- its entry was queued and is stored either way, as before.
Only the sequencer ends a batch, by :meth:`Batch.commit` or :meth:`Batch.fail`
(:meth:`Batch.abandon` when it is itself cancelled).

:class:`CommittedEntries` keeps the entries of batches this process committed, by first
index, until the integrator has hashed them: the bytes the store's transaction wrote, so
integration need not read them back. Entries admitted by others (acts in their own
transactions, other replicas) are not in it and are read from the store.
"""

from __future__ import annotations

import asyncio
import threading


class BatchFuture(asyncio.Future[int]):
    """The future every appender of one batch awaits; its waiters cannot cancel it."""

    def cancel(self, msg: object | None = None) -> bool:
        """Refuse: the batch's other appenders still get their indices. The cancelled
        waiter's task is cancelled when the batch is resolved (``Task.cancel`` then
        marks it to raise ``CancelledError`` on its next step)."""
        return False


class Batch:
    """Entries gathered for one :meth:`LogStore.append_entries` transaction."""

    __slots__ = ("entries", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.entries: list[bytes] = []
        self.future = BatchFuture(loop=loop)

    def commit(self, first: int) -> None:
        """The batch is durable at ``first, first + 1, …``: wake every appender."""
        if not self.future.done():
            self.future.set_result(first)

    def fail(self, error: BaseException) -> None:
        """The transaction failed, nothing was stored: every appender gets ``error``."""
        if not self.future.done():
            self.future.set_exception(error)

    def abandon(self) -> None:
        """The sequencer was cancelled before resolving the batch: cancel every appender
        (the one thing :class:`BatchFuture` does not refuse)."""
        asyncio.Future.cancel(self.future)


class CommittedEntries:
    """Entries this process committed, by first index, until integrated (thread-safe:
    the sequencer adds on the event loop, the integrator takes in a worker thread).

    Bounded by ``max_entries``: a batch that would exceed it is not kept (the integrator
    reads it from the store instead), so a stopped integrator cannot grow it."""

    def __init__(self, max_entries: int = 1 << 18) -> None:
        self._batches: dict[int, list[bytes]] = {}
        self._count = 0
        self._max = max_entries
        self._lock = threading.Lock()

    def add(self, first: int, entries: list[bytes]) -> None:
        """Remember that ``entries`` are stored at ``first, first + 1, …``."""
        with self._lock:
            if self._count + len(entries) <= self._max:
                self._batches[first] = entries
                self._count += len(entries)

    def runs(self, start: int, end: int) -> list[tuple[int, list[bytes]]]:
        """The remembered runs inside ``[start, end)``, as ``(first, entries)`` sorted by
        index, clipped to the range (kept until :meth:`forget`: an attempt that loses
        the checkpoint compare-and-swap retries with them)."""
        with self._lock:
            out = []
            for first in sorted(f for f in self._batches if f < end):
                entries = self._batches[first]
                lo, hi = max(first, start), min(first + len(entries), end)
                if lo < hi:
                    out.append((lo, entries[lo - first : hi - first]))
            return out

    def forget(self, end: int) -> None:
        """Drop what lies before ``end`` (integrated); a batch running past it keeps its rest."""
        with self._lock:
            for first in [f for f in self._batches if f < end]:
                entries = self._batches.pop(first)
                if first + len(entries) > end:
                    self._batches[end] = entries[end - first :]
                    self._count -= end - first
                else:
                    self._count -= len(entries)
