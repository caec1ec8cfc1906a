"""Group commit, integration, checkpoint CAS and refusal to open another log's store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from identity.errors import ConflictError, LogIntegrityError, RangeError, UnavailableError
from identity.log import proofs
from identity.log.checkpoint import NoteSigner, open_checkpoint
from identity.log.hashing import leaf_hash
from identity.log.sequencer import TransparencyLog
from identity.log.store import LogStore
from identity.storage.memory_log import MemoryLogStore
from tests.log.conftest import make_store


class CountingStore(MemoryLogStore):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def append_entries(self, entries: Sequence[bytes]) -> int:
        self.batches.append(len(entries))
        return super().append_entries(entries)


async def _fill(log: TransparencyLog, n: int) -> list[int]:
    return list(await asyncio.gather(*(log.append(b"entry-%d" % i) for i in range(n))))


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_concurrent_appends_unique_contiguous_and_provable(
    kind: str, tmp_path: Path, signer: NoteSigner
) -> None:
    store = make_store(kind, tmp_path)

    async def run() -> None:
        log = TransparencyLog(store, signer, max_batch=64, max_delay_ms=1)
        await log.start()
        indices = await _fill(log, 500)
        assert sorted(indices) == list(range(500))
        inclusion = await log.wait_for_checkpoint(indices[123])
        cp = inclusion.checkpoint.checkpoint
        assert cp.size > 123
        leaf = leaf_hash(b"entry-123")
        assert inclusion.proof.leaf_hash == leaf
        assert inclusion.proof.verify(cp.root) == cp.root
        await log.stop()
        assert log.checkpoint.checkpoint.size == 500
        assert open_checkpoint(store.latest_checkpoint() or b"", signer.verifier).checkpoint == (
            log.checkpoint.checkpoint
        )

    asyncio.run(run())
    store.close()


def test_batching_really_batches(signer: NoteSigner) -> None:
    store = CountingStore()

    async def run() -> None:
        log = TransparencyLog(store, signer, max_batch=100, max_delay_ms=50)
        await log.start()
        await _fill(log, 1000)
        await log.stop()

    asyncio.run(run())
    assert sum(store.batches) == 1000
    assert len(store.batches) == 10  # 1000 concurrent appends, batches of 100
    assert max(store.batches) == 100


def test_delay_bounds_a_small_batch(signer: NoteSigner) -> None:
    store = CountingStore()

    async def run() -> None:
        log = TransparencyLog(store, signer, max_batch=1000, max_delay_ms=5)
        await log.start()
        assert await _fill(log, 7) == list(range(7))
        await log.stop()

    asyncio.run(run())
    assert store.batches == [7]


def test_restart_continues_the_same_log(tmp_path: Path, signer: NoteSigner) -> None:
    async def run() -> tuple[bytes, bytes]:
        first = TransparencyLog(make_store("sqlite", tmp_path), signer)
        await first.start()
        await _fill(first, 300)
        await first.stop()
        old = first.checkpoint.checkpoint
        second = TransparencyLog(make_store("sqlite", tmp_path), signer)
        await second.start()
        assert second.checkpoint.checkpoint == old
        assert await second.append(b"more") == 300
        await second.stop()
        new = second.checkpoint.checkpoint
        proof = second.reader.consistency_proof(old.size, new.size)
        return proofs.verify_consistency(old.size, new.size, old.root, new.root, proof), new.root

    got, root = asyncio.run(run())
    assert got == root


def test_refuses_a_store_of_another_log(
    tmp_path: Path, signer: NoteSigner, other_signer: NoteSigner
) -> None:
    async def run() -> None:
        log = TransparencyLog(make_store("sqlite", tmp_path), signer)
        await log.start()
        await log.stop()
        with pytest.raises(LogIntegrityError):  # same origin, another key
            await TransparencyLog(make_store("sqlite", tmp_path), other_signer).start()
        renamed = NoteSigner("other.example/log", signer.private_key)
        with pytest.raises(LogIntegrityError):  # same key, another origin
            await TransparencyLog(make_store("sqlite", tmp_path), renamed).start()

    asyncio.run(run())


def test_refuses_to_start_on_a_tampered_tree(signer: NoteSigner) -> None:
    store = MemoryLogStore()

    async def run() -> None:
        log = TransparencyLog(store, signer)
        await log.start()
        await _fill(log, 10)
        await log.stop()
        store.nodes.levels[1][-1] ^= 0xFF  # (1, 4) is on the right edge of a 10-leaf tree
        with pytest.raises(LogIntegrityError):
            await TransparencyLog(store, signer).start()

    asyncio.run(run())


def test_refuses_to_sign_when_the_store_changed_under_a_running_log(signer: NoteSigner) -> None:
    """The consistency proof old → new is read from the store before signing: a stored
    right-edge hash altered after start (here (1, 2) of a 6-leaf tree) stops signing."""
    store = MemoryLogStore()

    async def run() -> None:
        log = TransparencyLog(store, signer)
        await log.start()
        await _fill(log, 6)
        await log.integrate()
        signed = log.checkpoint.note
        store.nodes.levels[1][-1] ^= 1
        assert await log.append(b"x") == 6
        # the running log's own poll may notice first (issue #12 polling)
        refused = r"would fork|does not match the signed checkpoint"
        with pytest.raises(UnavailableError, match=refused):
            await log.wait_for_checkpoint(6)  # 503 for the waiting client, not a 500
        assert store.latest_checkpoint() == signed  # nothing was signed
        health = log.health()
        reason = health.reason or ""  # the log's own poll may have noticed first
        assert not health.ok and ("would fork" in reason or "does not match" in reason)
        assert health.pending <= 1 and health.integration_errors >= 1
        await log.stop()

    asyncio.run(run())


def test_stale_writer_cannot_fork(signer: NoteSigner) -> None:
    """Two replicas on one store: the stale one's CAS fails; it reloads and extends the
    winner's tree instead of forking it."""
    store: LogStore = MemoryLogStore()

    async def run() -> None:
        a, b = TransparencyLog(store, signer), TransparencyLog(store, signer)
        await a.start()
        await b.start()
        await a.append(b"from a")
        await a.integrate()
        won = a.checkpoint
        stale = b.checkpoint
        assert stale.checkpoint.size == 0
        with pytest.raises(ConflictError):
            store.integrate(stale.note, b"forged", [])
        await b.append(b"from b")
        signed = await b.integrate()
        assert signed.checkpoint.size == 2
        proof = b.reader.consistency_proof(1, 2)
        root = signed.checkpoint.root
        assert proofs.verify_consistency(1, 2, won.checkpoint.root, root, proof) == root
        await a.stop()
        await b.stop()

    asyncio.run(run())


def test_rejects_bad_use(signer: NoteSigner) -> None:
    async def run() -> None:
        log = TransparencyLog(MemoryLogStore(), signer)
        with pytest.raises(UnavailableError):
            await log.append(b"before start")
        await log.start()
        with pytest.raises(RangeError):
            await log.append(b"x" * 70000)
        await log.stop()
        with pytest.raises(UnavailableError):
            await log.append(b"after stop")

    asyncio.run(run())
    with pytest.raises(RangeError):
        TransparencyLog(MemoryLogStore(), signer, max_batch=0)


def test_two_writers_on_one_store_keep_integrating_under_contention(
    tmp_path: Path, signer: NoteSigner
) -> None:
    """Two sequencers (two worker processes) share one store: CAS conflicts, and races
    during the reload after one, are contention -- neither writer may stop signing."""
    store = make_store("sqlite", tmp_path)

    async def run() -> tuple[int, int]:
        first = TransparencyLog(store, signer, max_batch=8, max_delay_ms=0.0)
        second = TransparencyLog(store, signer, max_batch=8, max_delay_ms=0.0)
        await first.start()
        await second.start()
        indices = await asyncio.gather(
            *(
                log.append(b"e-%d-%d" % (n, i))
                for i in range(300)
                for n, log in enumerate((first, second))
            )
        )
        last = max(indices)
        one = await first.wait_for_checkpoint(last)
        two = await second.wait_for_checkpoint(last)
        await first.stop()
        await second.stop()
        return one.checkpoint.checkpoint.size, two.checkpoint.checkpoint.size

    sizes = asyncio.run(run())
    assert min(sizes) >= 600
