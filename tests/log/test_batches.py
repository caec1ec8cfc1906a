"""The sequencer's batches: one future per batch, append_many, the committed-entries
window -- each proved against the plain path (same indices, same stored bytes, same
roots)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from identity.errors import RangeError, UnavailableError
from identity.log.batches import CommittedEntries
from identity.log.checkpoint import NoteSigner, open_checkpoint
from identity.log.sequencer import TransparencyLog
from identity.log.tree import MerkleTree
from identity.storage.memory_log import MemoryLogStore
from identity.storage.sqlite_log import SQLiteLogStore


class CountingStore(MemoryLogStore):
    """Records each batch's size; fails the batches whose number is in ``fail``."""

    def __init__(self, fail: Sequence[int] = ()) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.fail = set(fail)

    def append_entries(self, entries: Sequence[bytes]) -> int:
        self.batches.append(len(entries))
        if len(self.batches) in self.fail:
            raise UnavailableError("the store is down")
        return super().append_entries(entries)


def test_every_appender_of_a_batch_gets_its_own_index(signer: NoteSigner) -> None:
    store = CountingStore()

    async def run() -> list[int]:
        log = TransparencyLog(store, signer, max_batch=100, max_delay_ms=50)
        await log.start()
        got = await asyncio.gather(*(log.append(b"e%d" % i) for i in range(250)))
        await log.stop()
        return list(got)

    indices = asyncio.run(run())
    assert indices == list(range(250))  # queued in order, numbered in order
    assert store.batches == [100, 100, 50]
    assert [store.entries[i] for i in indices] == [b"e%d" % i for i in range(250)]


def test_append_many_is_one_batch_at_contiguous_indices(signer: NoteSigner) -> None:
    store = CountingStore()

    async def run() -> tuple[int, int, int]:
        log = TransparencyLog(store, signer, max_batch=8, max_delay_ms=20)
        await log.start()
        first = await log.append(b"alone")
        many, big = await asyncio.gather(
            log.append_many([b"m%d" % i for i in range(5)]),
            log.append_many([b"b%d" % i for i in range(20)]),  # beyond max_batch
        )
        await log.stop()
        return first, many, big

    first, many, big = asyncio.run(run())
    assert store.entries[many : many + 5] == [b"m%d" % i for i in range(5)]
    assert store.entries[big : big + 20] == [b"b%d" % i for i in range(20)]
    assert store.batches == [1, 5, 20]  # each call in one transaction
    assert first == 0


def test_append_many_refuses_bad_input(signer: NoteSigner) -> None:
    async def run() -> None:
        log = TransparencyLog(MemoryLogStore(), signer)
        await log.start()
        with pytest.raises(RangeError):
            await log.append_many([])
        with pytest.raises(RangeError):
            await log.append_many([b"ok", b"x" * 65536])
        with pytest.raises(RangeError):
            await log.append_many([b"ok", "text"])  # type: ignore[list-item]
        await log.stop()
        assert log.store.entry_count() == 0  # nothing half-written

    asyncio.run(run())


def test_a_failed_batch_fails_every_appender_and_stores_nothing(signer: NoteSigner) -> None:
    store = CountingStore(fail=[1])

    async def run() -> list[int | BaseException]:
        log = TransparencyLog(store, signer, max_batch=10, max_delay_ms=20)
        await log.start()
        first = await asyncio.gather(
            *(log.append(b"e%d" % i) for i in range(10)), return_exceptions=True
        )
        later = await log.append_many([b"x", b"y"])
        await log.stop()
        return [*first, later]

    outcomes = asyncio.run(run())
    assert all(isinstance(o, UnavailableError) for o in outcomes[:10])
    assert outcomes[10] == 0  # the failed batch took no index
    assert store.entries == [b"x", b"y"]


def test_a_cancelled_appender_does_not_fail_its_batch(signer: NoteSigner) -> None:
    """Cancelling one waiter of the shared future cancels that caller only, once the
    batch is resolved; its entry is stored with the batch, as before batches shared one
    future; the others get their indices."""
    store = MemoryLogStore()

    async def run() -> tuple[list[int | BaseException], bool]:
        log = TransparencyLog(store, signer, max_batch=1000, max_delay_ms=30)
        await log.start()
        tasks = [asyncio.ensure_future(log.append(b"e%d" % i)) for i in range(5)]
        await asyncio.sleep(0)
        tasks[2].cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        await log.stop()
        return list(outcomes), tasks[2].cancelled()

    outcomes, cancelled = asyncio.run(run())
    assert cancelled
    assert [o for i, o in enumerate(outcomes) if i != 2] == [0, 1, 3, 4]
    assert store.entries == [b"e%d" % i for i in range(5)]


def test_a_shut_down_loop_leaves_no_appender_waiting(signer: NoteSigner) -> None:
    """asyncio.run cancels every task at exit: the sequencer, cancelled, cancels the
    appenders of the batches it will not commit instead of leaving them waiting."""

    class SlowStore(MemoryLogStore):
        def append_entries(self, entries: Sequence[bytes]) -> int:
            import time

            time.sleep(0.2)
            return super().append_entries(entries)

    async def run() -> None:
        log = TransparencyLog(SlowStore(), signer, max_batch=2, max_delay_ms=0)
        await log.start()
        waiting = [asyncio.ensure_future(log.append(b"e%d" % i)) for i in range(6)]
        await asyncio.sleep(0.05)  # return with appenders waiting
        assert not all(task.done() for task in waiting)

    asyncio.run(asyncio.wait_for(run(), 5))  # returns: nothing hangs at shutdown


class ReadCountingStore(SQLiteLogStore):
    """Records the ranges the integrator reads back."""

    reads: list[tuple[int, int]]

    def read_entries(self, start: int, end: int) -> list[bytes]:
        self.reads = [*getattr(self, "reads", []), (start, end)]
        return super().read_entries(start, end)


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        return {
            t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("log_entries", "log_tiles", "log_leaf_slots", "log_meta")
        }
    finally:
        db.close()


def test_integration_from_memory_equals_integration_from_the_store(
    tmp_path: Path, signer: NoteSigner
) -> None:
    """A log whose integrator takes its own committed entries from memory stores the
    same bytes (entries, every tree level, leaf slots, signed checkpoints) as one that
    reads every entry back (a window of 0), with entries admitted behind the sequencer's
    back (an act's own transaction) interleaved; the root is the reference tree's."""
    results = {}
    for name, size in (("memory", 1 << 18), ("store", 0)):
        path = tmp_path / f"{name}.sqlite3"
        store = ReadCountingStore(path, synchronous="OFF")

        async def run(store: SQLiteLogStore = store, size: int = size) -> None:
            log = TransparencyLog(store, signer, max_batch=64, max_delay_ms=0)
            log._committed_entries = CommittedEntries(size)
            await log.start()
            for round_ in range(12):
                await log.append_many([b"r%d-%d" % (round_, i) for i in range(round_ * 37 + 1)])
                act = store.append_entries([b"act %d" % round_])  # admitted by an act
                log.notify()
                await log.wait_for_checkpoint(act)
            await log.stop()

        asyncio.run(run())
        read = sum(end - start for start, end in store.reads)
        assert read == (12 if size else store.entry_count())  # memory: only the acts read
        results[name] = (store.latest_checkpoint() or b"", _tables(path))
        store.close()
    assert results["memory"] == results["store"]
    note, tables = results["memory"]
    tree = MerkleTree()
    for _, data in tables["log_entries"]:
        tree.append(bytes(data))  # type: ignore[call-overload]
    signed = open_checkpoint(note, signer.verifier).checkpoint
    assert (signed.size, signed.root) == (tree.size, tree.root())


def test_the_window_is_bounded_and_keeps_the_rest_of_a_cut_batch() -> None:
    window = CommittedEntries(max_entries=10)
    window.add(0, [b"a", b"b", b"c", b"d"])
    window.add(4, [b"e"] * 7)  # would exceed the bound: not kept
    assert window.runs(0, 2) == [(0, [b"a", b"b"])]
    assert window.runs(1, 11) == [(1, [b"b", b"c", b"d"])]  # kept until forgotten
    window.forget(2)
    assert window.runs(0, 100) == [(2, [b"c", b"d"])]
    window.add(4, [b"e"] * 7)  # room again
    window.forget(100)
    assert window.runs(0, 100) == []
