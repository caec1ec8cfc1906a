"""Watching the log's integration: ``/health``, one log line per state change, metrics.

:class:`LogHealthMonitor` reads :meth:`TransparencyLog.health` (cheap, no store access)
every ``interval_s`` and on every ``/health`` request. When its ``state`` changes --
healthy to failing, one kind of failure to another, back to healthy -- it logs exactly
one line (``WARNING`` when failing, ``INFO`` when recovered). :attr:`LogHealthMonitor.current` is
the last :class:`~identity.log.sequencer.LogHealth` seen: the operators' metrics read its
``tree_size``, ``pending``, ``seconds_behind``, ``seconds_since_checkpoint`` and
``integration_errors`` as plain attributes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from identity.log.sequencer import LogHealth, TransparencyLog

log = logging.getLogger("identity.log")


class LogHealthMonitor:
    """Logs the log's health once per state change; keeps the latest reading."""

    def __init__(self, transparency_log: TransparencyLog, interval_s: float = 1.0) -> None:
        self.log = transparency_log
        self.interval = interval_s
        self.current: LogHealth = transparency_log.health()
        self._reported = "ok"
        self._task: asyncio.Task[None] | None = None

    def check(self) -> LogHealth:
        """Read the health now; log a line if its state changed since the last reading."""
        health = self.current = self.log.health()
        if health.state != self._reported:
            if health.reason is None:
                log.info("transparency log healthy again: tree size %d", health.tree_size)
            else:
                log.warning(
                    "transparency log unhealthy: %s (tree size %d, %d entries pending, "
                    "%d integration errors)",
                    health.reason,
                    health.tree_size,
                    health.pending,
                    health.integration_errors,
                )
            self._reported = health.state
        return health

    async def _run(self) -> None:
        while True:
            self.check()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        """Check every ``interval_s`` in the background (needs the running loop)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="log-health")

    async def stop(self) -> None:
        """Cancel the background check and wait for it to end (idempotent)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
