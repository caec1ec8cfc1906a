"""The periodic drain of issuances left in flight on a Redis Cluster (issue #16).

On a cluster an issuance writes its credential in the credential's hash slot and its log
entry in the log's slot, through an outbox
(:mod:`identity.storage.redis_spread`). A replica killed between those steps leaves the
act in its outbox; :class:`OutboxDrainer` finishes such acts every ``interval_s`` (only
those older than ``min_age_s``, so a live writer normally finishes its own) and nudges
the sequencer to integrate the entries it admitted. Stores without an outbox (memory,
SQLite, standalone Redis) have nothing to drain and get no task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from identity.errors import UnavailableError

log = logging.getLogger(__name__)


class _Draining(Protocol):
    def drain_outbox(self, older_than_s: float = 0.0) -> int: ...


class OutboxDrainer:
    """Drains ``store``'s outbox in the background; ``notify`` is the sequencer's nudge."""

    def __init__(
        self,
        store: _Draining,
        notify: Callable[[], None],
        interval_s: float = 2.0,
        min_age_s: float = 5.0,
    ) -> None:
        self.store = store
        self.notify = notify
        self.interval = interval_s
        self.min_age = min_age_s
        self.finished = 0
        self._task: asyncio.Task[None] | None = None

    async def drain_once(self) -> int:
        """One pass: finish every act in flight older than ``min_age_s``; how many."""
        done = await asyncio.to_thread(self.store.drain_outbox, self.min_age)
        if done:
            self.finished += done
            log.warning("finished %d issuances left in flight by a stopped writer", done)
            self.notify()
        return done

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.drain_once()
            except UnavailableError as exc:  # a node down: the next pass tries again
                log.warning("outbox drain postponed: %s", exc.detail)

    def start(self) -> None:
        """Drain every ``interval_s`` (needs the running loop)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-drain")

    async def stop(self) -> None:
        """Stop the background task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def start_drainer(store: object, notify: Callable[[], None]) -> OutboxDrainer | None:
    """An :class:`OutboxDrainer` started for ``store`` when it spreads credentials over a
    cluster (it has ``drain_outbox`` and a spread layout), else ``None``."""
    if getattr(store, "_spread", None) is None or not hasattr(store, "drain_outbox"):
        return None
    drainer = OutboxDrainer(store, notify)
    drainer.start()
    return drainer
