"""Status indices reserved ahead of need (service/status_pool.py): each handed out once,
the next batch reserved before the pool runs dry, a failed reservation the error of its
waiting callers only, a cancelled caller not cancelling it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from identity.errors import UnavailableError
from identity.storage.sqlite import SqliteStore
from service.status_pool import IndexPool


class Counting:
    """A reserve over a real store, counting calls; ``gate`` (if set) holds each call
    until it is set; ``fail`` raises instead."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.calls = 0
        self.gate: threading.Event | None = None
        self.fail = False

    def __call__(self, issuer_id: str, count: int) -> list[tuple[str, int]]:
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail:
            raise UnavailableError("the store is down")
        n = iter(range(10**9))
        return self.store.reserve_status_indices(
            issuer_id, count, lambda size: next(n) % size, 1024, ["revocation"]
        )


@pytest.fixture
def reserve(tmp_path: Path) -> Counting:
    return Counting(SqliteStore(tmp_path / "s.sqlite3"))


def test_concurrent_takes_get_distinct_indices_reserved_in_the_store(reserve: Counting) -> None:
    pool = IndexPool(reserve, 16)

    async def run() -> list[tuple[str, tuple[str, int]]]:
        async def one(i: int) -> tuple[str, tuple[str, int]]:
            issuer = f"agency-{i % 3}"
            return issuer, await pool.take(issuer)

        return list(await asyncio.gather(*(one(i) for i in range(300))))

    got = asyncio.run(run())
    assert len({taken for _, taken in got}) == 300  # never one index twice
    for issuer, (group, _) in got:
        assert group.startswith(issuer) or issuer in group
    assert pool.reservations == reserve.calls >= 300 // 16


def test_the_next_batch_is_reserved_before_the_pool_runs_dry(reserve: Counting) -> None:
    """Once the pool is below a quarter, a reservation starts; takes go on from what is
    left while it is held up, and none waits until the pool is empty."""
    pool = IndexPool(reserve, 8)

    async def run() -> None:
        await pool.take("a")  # the first take waits for the first batch
        assert reserve.calls == 1 and pool.available("a") == 7
        reserve.gate = threading.Event()
        for _ in range(6):  # 7 -> 1: below 8 // 4 = 2 after the sixth
            await pool.take("a")
        await asyncio.sleep(0.05)
        assert reserve.calls == 2, "the refill started while indices were left"
        taken = await asyncio.wait_for(pool.take("a"), 1)  # the last one, no waiting
        assert taken is not None and pool.available("a") == 0
        waiting = asyncio.ensure_future(pool.take("a"))  # now the pool is empty: it waits
        await asyncio.sleep(0.05)
        assert not waiting.done()
        reserve.gate.set()
        await asyncio.wait_for(waiting, 5)
        assert reserve.calls == 2  # the one reservation served the waiting caller

    asyncio.run(run())


def test_a_failed_reservation_fails_its_waiting_callers_and_the_next_one_retries(
    reserve: Counting,
) -> None:
    pool = IndexPool(reserve, 4)

    async def run() -> None:
        reserve.fail = True
        results = await asyncio.gather(pool.take("a"), pool.take("a"), return_exceptions=True)
        assert all(isinstance(r, UnavailableError) for r in results)
        assert reserve.calls == 1  # one reservation for both
        reserve.fail = False
        assert await pool.take("a") is not None  # the next caller tries again
        assert reserve.calls == 2

    asyncio.run(run())


def test_a_cancelled_caller_does_not_cancel_the_reservation(reserve: Counting) -> None:
    pool = IndexPool(reserve, 4)

    async def run() -> None:
        reserve.gate = threading.Event()
        first = asyncio.ensure_future(pool.take("a"))
        await asyncio.sleep(0.05)
        first.cancel()
        reserve.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await first
        for _ in range(40):
            if pool.available("a") == 4:
                break
            await asyncio.sleep(0.01)
        assert pool.available("a") == 4 and reserve.calls == 1  # reserved, kept for later

    asyncio.run(run())


def test_a_batch_below_one_is_refused(reserve: Counting) -> None:
    with pytest.raises(ValueError):
        IndexPool(reserve, 0)
