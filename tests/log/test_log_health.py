"""No silent stall (issue #12): :meth:`TransparencyLog.health` names why integration does
not keep up, :meth:`require_healthy` refuses acts meanwhile, and the service's monitor
logs one line per state change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from identity.errors import ConflictError, UnavailableError
from identity.log.checkpoint import NoteSigner
from identity.log.sequencer import MAX_CAS_RETRIES, TransparencyLog
from identity.log.tree import NodeRun
from identity.storage.memory_log import MemoryLogStore
from service.log_health import LogHealthMonitor


class LosingStore(MemoryLogStore):
    """A store whose checkpoint compare-and-swap fails from the ``armed`` moment on."""

    armed = False
    attempts = 0

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        if self.armed:
            self.attempts += 1
            raise ConflictError("moved")
        super().integrate(expected, checkpoint, runs)


class OutpacedStore(MemoryLogStore):
    """From the ``armed`` moment on, every compare-and-swap of this log is lost to
    "another writer" that first admits one more entry and integrates exactly what this
    log was about to: the tree grows each time, as with replicas taking turns."""

    armed = False
    losses = 0

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        super().integrate(expected, checkpoint, runs)
        if self.armed:
            self.losses += 1
            self.append_entries([b"another replica's act %d" % self.losses])
            raise ConflictError("moved")


class DownStore(MemoryLogStore):
    down = False

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        if self.down:
            raise UnavailableError("store down")
        super().integrate(expected, checkpoint, runs)


def test_a_checkpoint_cas_that_never_succeeds_is_a_named_stall(signer: NoteSigner) -> None:
    store = LosingStore()

    async def run() -> None:
        log = TransparencyLog(store, signer, poll_s=0.01)
        await log.start()
        assert log.health().ok
        store.armed = True
        await log.append(b"x")
        for _ in range(500):
            if not log.health().ok:
                break
            await asyncio.sleep(0.01)
        health = log.health()
        assert health.reason == "the checkpoint compare-and-swap keeps failing"
        assert health.pending == 1 and health.integration_errors >= 1
        assert store.attempts >= MAX_CAS_RETRIES
        with pytest.raises(UnavailableError, match="compare-and-swap"):
            log.require_healthy()
        store.armed = False  # the contention ends: integration recovers by itself
        for _ in range(500):
            if log.health().ok and log.checkpoint.checkpoint.size == 1:
                break
            await asyncio.sleep(0.01)
        assert log.health().ok and log.health().pending == 0
        await log.stop()

    asyncio.run(run())


def test_compare_and_swaps_lost_to_a_writer_that_grows_the_tree_are_not_a_stall(
    signer: NoteSigner,
) -> None:
    """Two replicas integrating one log lose CAS races to each other all the time; while
    the other one's checkpoints grow the tree, that is progress (before: 64 lost in a row
    marked the log stalled, and every act was refused with 503 for seconds)."""
    store = OutpacedStore()

    async def run() -> None:
        log = TransparencyLog(store, signer, poll_s=0.01)
        await log.start()
        store.armed = True
        for n in range(3 * MAX_CAS_RETRIES):
            await log.append(b"act %d" % n)
            await log.integrate()
            assert log.health().ok, log.health().reason
            log.require_healthy()
        assert store.losses >= 3 * MAX_CAS_RETRIES  # every one of this log's CAS was lost
        assert log.checkpoint.checkpoint.size >= 3 * MAX_CAS_RETRIES
        store.armed = False
        await log.stop()

    asyncio.run(run())


def test_integration_lagging_beyond_the_bound_is_unhealthy(signer: NoteSigner) -> None:
    now = [0.0]
    store = DownStore()

    async def run() -> None:
        log = TransparencyLog(store, signer, max_lag_s=30, poll_s=0.01, monotonic=lambda: now[0])
        await log.start()
        store.down = True
        await log.append(b"x")
        await asyncio.sleep(0.05)
        health = log.health()
        assert health.ok and health.pending == 1  # down, but not for long: acts still go
        assert health.last_error is not None and "store down" in health.last_error
        now[0] = 31.0
        health = log.health()
        assert health.reason == "integration is 31 s behind sequencing (1 entries)"
        assert health.seconds_behind == 31.0
        with pytest.raises(UnavailableError, match="behind"):
            log.require_healthy()
        store.down = False
        for _ in range(200):
            await asyncio.sleep(0.01)
            if log.health().ok:
                break
        assert log.health().ok and log.health().tree_size == 1
        await log.stop()
        assert log.health().reason == "the log is not running"

    asyncio.run(run())


def test_the_monitor_logs_once_per_state_change(
    signer: NoteSigner, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    store = DownStore()
    caplog.set_level(logging.INFO, logger="identity.log")

    async def run() -> None:
        log = TransparencyLog(store, signer, max_lag_s=5, poll_s=0.01, monotonic=lambda: now[0])
        await log.start()
        monitor = LogHealthMonitor(log)
        store.down = True
        await log.append(b"x")
        await asyncio.sleep(0.05)
        for t in (1.0, 6.0, 7.0, 8.0):
            now[0] = t
            monitor.check()
        store.down = False
        for _ in range(200):
            await asyncio.sleep(0.01)
            if monitor.check().ok:
                break
        monitor.check()
        assert monitor.current.tree_size == 1 and monitor.current.pending == 0
        await log.stop()

    asyncio.run(run())
    messages = [r.getMessage() for r in caplog.records if r.name == "identity.log"]
    assert len(messages) == 2, messages
    assert messages[0].startswith("transparency log unhealthy: integration is 6 s behind")
    assert messages[1].startswith("transparency log healthy again")
