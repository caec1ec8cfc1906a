"""A watch on the shared stores: reachability and the log's progress, sampled each second.

One per worker. Each sample pings the main store and reads the log store's entry count
and newest checkpoint (three cheap reads), so every worker and every replica sees the same
shared state. The watch

* keeps what the scrape-time gauges report (tree size, entries sequenced but not yet
  integrated, when the signed tree last grew, whether the store answers);
* writes one log line when the store becomes unavailable and one when it recovers (with
  how long it was down), and the same for the log's integration stalling and resuming:
  entries waiting longer than ``stall_after`` seconds for a checkpoint that covers them.

A request that fails with :class:`UnavailableError` marks the store down at once
(:meth:`Watch.store_failed`); only a successful probe marks it up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from identity.errors import UnavailableError
from identity.log.store import LogStore

events = logging.getLogger("identity.events")

STALL_AFTER_S = 30.0
"""Entries waiting this long for a checkpoint mean integration has stalled."""


class WatchSink(Protocol):
    """Where the watch reports store failures (the metrics)."""

    def store_error(self, source: str) -> None:
        """One store failure seen by ``source`` (a bounded label)."""
        ...

    def unavailable_for(self, seconds: float) -> None:
        """Add ``seconds`` to the time the store was unavailable."""
        ...


@dataclass
class WatchState:
    """The last sample; times are ``time.monotonic()`` readings."""

    last_advance: float
    tree_size: int = 0
    pending: int = 0
    pending_since: float | None = None
    stalled_since: float | None = None
    down_since: float | None = None
    accounted_to: float | None = None
    unavailable_s: float = 0.0
    sampled: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def checkpoint_size(note: bytes | None) -> int:
    """The tree size of a C2SP tlog-checkpoint note: its second line (origin, size, root)."""
    if note is None:
        return 0
    return int(note.split(b"\n", 2)[1])


class Watch:
    """Samples ``ping`` and the log store every ``interval`` seconds while running."""

    def __init__(
        self,
        ping: Callable[[], None],
        log_store: LogStore,
        sink: WatchSink | None = None,
        *,
        interval: float = 1.0,
        stall_after: float = STALL_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ping = ping
        self.log_store = log_store
        self.sink = sink
        self.interval = interval
        self.stall_after = stall_after
        self.clock = clock
        self.state = WatchState(last_advance=clock())
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- one sample (blocking: runs in a worker thread) --------------------------------

    def sample(self) -> None:
        """Probe the stores once and update the state, logging any transition."""
        try:
            self.ping()
            sequenced = self.log_store.entry_count()
            size = checkpoint_size(self.log_store.latest_checkpoint())
        except UnavailableError as exc:
            self.store_failed("probe", exc.detail)
            return
        now = self.clock()
        state = self.state
        with state.lock:
            self._came_back(now)
            first = not state.sampled
            state.sampled = True
            if size != state.tree_size:
                if not first:
                    state.last_advance = now
                    if state.stalled_since is not None:
                        events.info(
                            "log integration resumed",
                            extra=fields(
                                event="log.resumed",
                                tree_size=size,
                                stalled_seconds=round(now - state.stalled_since, 3),
                            ),
                        )
                        state.stalled_since = None
                state.tree_size = size
            state.pending = max(0, sequenced - size)
            if not state.pending:
                state.pending_since = None
                state.stalled_since = None
                return
            if state.pending_since is None:
                state.pending_since = now
            waited = now - max(state.pending_since, state.last_advance)
            if waited >= self.stall_after and state.stalled_since is None:
                state.stalled_since = now - waited
                events.warning(
                    "log integration stalled",
                    extra=fields(
                        event="log.stalled",
                        pending=state.pending,
                        tree_size=size,
                        waiting_seconds=round(waited, 3),
                    ),
                )

    def store_failed(self, source: str, detail: str = "") -> None:
        """The store did not answer (a probe, or a request that got 503)."""
        now = self.clock()
        state = self.state
        with state.lock:
            if self.sink is not None:
                self.sink.store_error(source)
            if state.down_since is None:
                state.down_since = now
                events.error(
                    "store unavailable",
                    extra=fields(event="store.unavailable", source=source, detail=detail[:200]),
                )
            self._account(now)

    def _came_back(self, now: float) -> None:
        state = self.state
        if state.down_since is None:
            return
        self._account(now)
        down = now - state.down_since
        state.down_since = state.accounted_to = None
        events.info(
            "store recovered",
            extra=fields(event="store.recovered", unavailable_seconds=round(down, 3)),
        )

    def _account(self, now: float) -> None:
        """Fold the current outage into the running total (called under the lock)."""
        state = self.state
        if state.down_since is not None:
            since = state.down_since if state.accounted_to is None else state.accounted_to
            state.unavailable_s += max(0.0, now - since)
            state.accounted_to = now
        if self.sink is not None:
            self.sink.unavailable_for(state.unavailable_s)

    # -- running --------------------------------------------------------------------

    def start(self) -> None:
        """Start sampling on the running loop (first sample now)."""
        self._stop = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="identity-watch")

    async def stop(self) -> None:
        """Stop after the sample in progress, if any (the stores stay open until then)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self.sample)
            except Exception:  # a bug in a store: say so, keep watching
                events.exception("the store watch failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)


def fields(**values: object) -> dict[str, object]:
    """``extra=`` for a structured log line: the formatter writes ``values`` as fields."""
    return {"fields": values}
