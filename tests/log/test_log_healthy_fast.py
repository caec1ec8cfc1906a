"""The per-act health check (:attr:`TransparencyLog.healthy`, used by
:meth:`require_healthy`) equals ``health().ok`` -- the slow path that builds a full
:class:`LogHealth` -- in every state: not started, ok, behind within the bound, lagging,
stalled, recovered and stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from identity.errors import ConflictError, UnavailableError
from identity.log.checkpoint import NoteSigner
from identity.log.sequencer import TransparencyLog
from identity.log.tree import NodeRun
from identity.storage.memory_log import MemoryLogStore


class FlakyStore(MemoryLogStore):
    """Integration fails with ``mode``: ``None`` (works), ``"down"`` or ``"cas"``."""

    mode: str | None = None

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        if self.mode == "down":
            raise UnavailableError("store down")
        if self.mode == "cas":
            raise ConflictError("moved")
        super().integrate(expected, checkpoint, runs)


def same(log: TransparencyLog) -> bool:
    """Assert the fast flag equals the slow health, and that require_healthy agrees."""
    ok = log.health().ok
    assert log.healthy is ok
    if ok:
        log.require_healthy()
    else:
        with pytest.raises(UnavailableError):
            log.require_healthy()
    return ok


async def settle(log: TransparencyLog, want: bool) -> None:
    for _ in range(500):
        if same(log) is want:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("state not reached")


def test_healthy_equals_health_ok_in_every_state(signer: NoteSigner) -> None:
    now = [0.0]
    store = FlakyStore()

    async def run() -> None:
        log = TransparencyLog(store, signer, max_lag_s=30, poll_s=0.01, monotonic=lambda: now[0])
        assert same(log)  # not started yet
        await log.start()
        assert same(log)
        store.mode = "down"
        await log.append(b"a")
        await asyncio.sleep(0.05)
        assert same(log)  # behind, within the bound
        now[0] = 30.0
        assert same(log)  # exactly at the bound: still ok
        now[0] = 31.0
        assert not same(log)  # lagging
        store.mode = None
        await settle(log, True)  # recovered
        store.mode = "cas"
        await log.append(b"b")
        await settle(log, False)  # stalled
        store.mode = None
        await settle(log, True)
        await log.stop()
        assert not same(log)  # not running

    asyncio.run(run())


@pytest.mark.parametrize("max_lag", [0.0, -1.0])
def test_healthy_equals_health_ok_at_degenerate_bounds(signer: NoteSigner, max_lag: float) -> None:
    async def run() -> None:
        log = TransparencyLog(MemoryLogStore(), signer, max_lag_s=max_lag, poll_s=0.01)
        same(log)
        await log.start()
        same(log)
        await log.append(b"x")
        same(log)
        await log.stop()
        same(log)

    asyncio.run(run())
