"""The sharded log (identity/log/shards.py) on memory, SQLite and a real Redis: the
policy, the catalog contract, a boundary crossed by concurrent writers, freezing (durable,
refusing appends with nothing written), size splits, and a frozen shard verified from its
exported tiles with the store gone."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from identity.errors import ConflictError, LogIntegrityError, RangeError
from identity.log.auditor import AuditState, audit_log
from identity.log.entries import LogEntry
from identity.log.hashing import leaf_hash
from identity.log.proofs import verify_inclusion
from identity.log.shards import (
    FrozenShardError,
    ShardCatalog,
    ShardedLog,
    ShardPolicy,
    ShardReceipt,
    ShardRecord,
    UnknownShardError,
)
from identity.storage.static_log import load_static_log
from service.audit import FolderAuditSource
from service.cli_export import export_log
from tests.log.shard_fixtures import (
    BASE_ORIGIN,
    BOUNDARY,
    Backend,
    Clock,
    ReaderSource,
    backend,
    shard_signer,
)

BACKENDS = ["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis_server)]


@pytest.fixture(params=BACKENDS)
def shards_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with backend(request.param, tmp_path) as made:
        yield made


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on its own event loop (as tests/log does)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def entry(n: int, at: datetime) -> bytes:
    fields = {
        "credential_digest": "sha256:" + f"{n:064x}",
        "issuer": "did:key:z6MkTest",
        "type": "TestCredential",
    }
    return LogEntry("credential.issued", at.replace(microsecond=0), fields).to_bytes()


# -- policy --------------------------------------------------------------------------


def test_policy_names_periods_and_boundaries() -> None:
    at = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    year, month = ShardPolicy("year"), ShardPolicy("month", grace_s=30)
    assert (year.label(at), month.label(at)) == ("2026", "2026-12")
    assert year.ends("2026") == month.ends("2026-12") == BOUNDARY
    assert month.ends("2026-03") == datetime(2026, 4, 1, tzinfo=UTC)
    assert not month.closed("2026-12", BOUNDARY + timedelta(seconds=29))
    assert month.closed("2026-12", BOUNDARY + timedelta(seconds=30))
    assert ShardPolicy.name("2026", 0) == "2026" and ShardPolicy.name("2026", 2) == "2026.2"
    assert ShardPolicy.name("", 0) == "0" and ShardPolicy("none").ends("") is None
    assert not ShardPolicy().sharded and ShardPolicy(max_entries=5).sharded


@pytest.mark.parametrize("kwargs", [{"period": "week"}, {"max_entries": 0}, {"grace_s": -1.0}])
def test_policy_refuses_bad_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(RangeError):
        ShardPolicy(**kwargs)  # type: ignore[arg-type]


# -- catalog contract ----------------------------------------------------------------


def test_catalog_contract(shards_backend: Backend) -> None:
    catalog: ShardCatalog = shards_backend.catalog()
    first = ShardRecord("2026", "2026", 0, BASE_ORIGIN + "/2026")
    second = ShardRecord("2027", "2027", 0, BASE_ORIGIN + "/2027")
    catalog.add(first)
    catalog.add(second)
    catalog.add(first)  # the same again: no-op
    with pytest.raises(ConflictError):
        catalog.add(ShardRecord("2026", "2026", 0, "other.example/log/2026"))
    with pytest.raises(RangeError):
        catalog.add(ShardRecord("2028", "2028", 0, BASE_ORIGIN + "/2028", b"note"))
    assert catalog.records() == [first, second]
    catalog.freeze("2026", b"final")
    catalog.freeze("2026", b"final")
    with pytest.raises(ConflictError):
        catalog.freeze("2026", b"another")
    with pytest.raises(UnknownShardError):
        catalog.freeze("1999", b"final")
    reopened = shards_backend.catalog()
    assert [r.final for r in reopened.records()] == [b"final", None]
    assert [r.name for r in reopened.records()] == ["2026", "2027"]
    # seal: durable, idempotent, kept by a later freeze; unknown names refused
    reopened.seal("2027")
    reopened.seal("2027")
    reopened.seal("2026")  # frozen already: a no-op
    with pytest.raises(UnknownShardError):
        reopened.seal("1999")
    again = shards_backend.catalog()
    assert [(r.sealed, r.closed, r.frozen) for r in again.records()] == [
        (True, True, True),
        (True, True, False),
    ]
    again.add(second)  # re-adding the sealed shard's record is still a no-op
    again.freeze("2027", b"last")
    assert again.records()[1] == replace(second, final=b"last", sealed=True)
    limited = ShardRecord("2028", "2028", 0, BASE_ORIGIN + "/2028", limit=5)
    again.add(limited)
    assert shards_backend.catalog().records()[2] == limited  # the limit is kept
    assert limited.successor() == ShardRecord("2028.1", "2028", 1, BASE_ORIGIN + "/2028.1", limit=5)


@run_async
async def test_a_shard_sealed_when_a_replica_stopped_is_frozen_after_restart(
    shards_backend: Backend,
) -> None:
    """A freeze that stopped after the seal: the restarted log refuses appends to the shard
    and its next roll signs the final checkpoint over exactly what it holds."""
    clock = Clock(BOUNDARY - timedelta(seconds=5))
    log = shards_backend.sharded(ShardPolicy("year", grace_s=60), clock)
    await log.start()
    try:
        receipts = await _issue(log, clock, 0, 10)
    finally:
        await log.stop()
    shards_backend.catalog().seal("2026")  # ... and the replica stopped here
    log = shards_backend.sharded(ShardPolicy("year", grace_s=60), clock)
    await log.start()
    try:
        with pytest.raises(FrozenShardError):
            await log.append(entry(99, clock()))
        assert await log.roll() == ["2026"]
        final = log.shard("2026").final_checkpoint()
        assert final is not None and final.checkpoint.size == len(receipts) == 10
    finally:
        await log.stop()


# -- a boundary crossed under load ---------------------------------------------------


async def _issue(log: ShardedLog, clock: Clock, start: int, count: int) -> list[ShardReceipt]:
    return list(
        await asyncio.gather(*(log.append(entry(start + i, clock())) for i in range(count)))
    )


def _check_shards(log: ShardedLog, receipts: list[ShardReceipt], total: int) -> None:
    """Each leaf in exactly one shard, no gap, every receipt proved, every shard audited."""
    seen: dict[str, set[int]] = {}
    for receipt in receipts:
        assert receipt.origin == BASE_ORIGIN + "/" + receipt.shard
        assert receipt.index not in seen.setdefault(receipt.shard, set())
        seen[receipt.shard].add(receipt.index)
    digests: list[str] = []
    for shard in log.shards():
        size = shard.reader.checkpoint().checkpoint.size
        assert seen.get(shard.name, set()) == set(range(size))  # no gap, nothing extra
        entries = shard.reader.entries(list(range(size)))
        digests += [LogEntry.parse(e).fields["credential_digest"] for e in entries]
        report = audit_log(ReaderSource(shard.reader), shard.signer.verifier, AuditState())
        assert report.checkpoint.checkpoint.origin == shard.origin
    assert len(digests) == len(set(digests)) == total


@run_async
async def test_boundary_crossed_by_concurrent_writers(shards_backend: Backend) -> None:
    clock = Clock(BOUNDARY - timedelta(seconds=2))
    log = shards_backend.sharded(ShardPolicy("year", grace_s=60), clock)
    await log.start()
    try:
        receipts: list[ShardReceipt] = []

        async def writer(worker: int) -> None:
            for n in range(30):
                receipts.append(await log.append(entry(worker * 100 + n, clock())))
                if worker == 0:
                    clock.advance(0.15)  # the boundary passes while the others write

        await asyncio.gather(*(writer(w) for w in range(10)))
        assert {r.shard for r in receipts} == {"2026", "2027"}
        assert await log.roll() == []  # inside the grace: 2026 still writable
        clock.advance(60)
        assert await log.roll() == ["2026"]
        frozen = log.shard("2026")
        final = frozen.final_checkpoint()
        assert final is not None and final.checkpoint.origin == BASE_ORIGIN + "/2026"
        for receipt in receipts:
            inclusion = await log.wait_for_checkpoint(receipt)
            assert inclusion.checkpoint.checkpoint.origin == receipt.origin
            inclusion.proof.verify(inclusion.checkpoint.checkpoint.root)
        _check_shards(log, receipts, 300)
    finally:
        await log.stop()


@run_async
async def test_frozen_shard_refuses_appends_and_stays_frozen(shards_backend: Backend) -> None:
    clock = Clock(BOUNDARY - timedelta(seconds=1))
    log = shards_backend.sharded(ShardPolicy("year", grace_s=0), clock)
    await log.start()
    try:
        await _issue(log, clock, 0, 10)
        clock.advance(1)
        assert await log.roll() == ["2026"]
        shard = log.shard("2026")
        with pytest.raises(FrozenShardError):
            shard.store.append_entries([b"late"])
        clock.now = BOUNDARY - timedelta(seconds=1)  # a writer whose clock lags
        with pytest.raises(FrozenShardError) as refused:
            await log.append(entry(99, clock()))
        assert refused.value.type_uri.endswith("/log-shard-frozen")
        assert shard.store.entry_count() == 10
        assert shard.reader.checkpoint().checkpoint.size == 10
    finally:
        await log.stop()
    again = shards_backend.sharded(ShardPolicy("year", grace_s=0), clock)
    await again.start()  # a restart: the catalog still says frozen
    try:
        assert again.shard("2026").record.frozen
        with pytest.raises(FrozenShardError):
            await again.append(entry(100, clock()))
        assert again.shard("2026").store.entry_count() == 10
        with pytest.raises(UnknownShardError):
            again.shard("1999")
    finally:
        await again.stop()


@run_async
async def test_size_boundary_splits_a_period(shards_backend: Backend) -> None:
    clock = Clock(datetime(2026, 5, 1, tzinfo=UTC))
    log = shards_backend.sharded(ShardPolicy("year", max_entries=40), clock, max_batch=16)
    await log.start()
    try:
        receipts = await _issue(log, clock, 0, 100)
        await log.roll()
        names = [s.name for s in log.shards()]
        assert names[:3] == ["2026", "2026.1", "2026.2"]
        sizes = [s.store.entry_count() for s in log.shards()]
        assert all(size <= 40 for size in sizes) and sum(sizes) == 100
        assert all(s.record.frozen for s in log.shards() if s.store.entry_count() == 40)
        _check_shards(log, receipts, 100)
    finally:
        await log.stop()


@run_async
async def test_frozen_shard_verifies_from_exported_tiles_with_the_store_gone(
    shards_backend: Backend, tmp_path: Path
) -> None:
    clock = Clock(BOUNDARY - timedelta(seconds=1))
    log = shards_backend.sharded(ShardPolicy("year", grace_s=0), clock)
    await log.start()
    try:
        receipts = await _issue(log, clock, 0, 300)
        clock.advance(1)
        await log.roll()
        shard = log.shard("2026")
        final = shard.record.final
        verifier = shard.signer.verifier
        size, written, _ = export_log(shard.reader, tmp_path / "site" / "2026")
        assert size == 300 and written > 0
    finally:
        await log.stop()
    shards_backend.drop()  # the live store is gone
    reader = load_static_log(
        FolderAuditSource(tmp_path / "site" / "2026"), verifier, BASE_ORIGIN + "/2026", final
    )
    root = reader.checkpoint().checkpoint.root
    for receipt in receipts:
        data = reader.entry(receipt.index)
        proof = reader.inclusion_proof(receipt.index)
        assert proof.leaf_hash == leaf_hash(data)
        verify_inclusion(receipt.index, 300, leaf_hash(data), proof.path, root)
    with pytest.raises(LogIntegrityError):  # pinned to another final checkpoint
        load_static_log(
            FolderAuditSource(tmp_path / "site" / "2026"), verifier, BASE_ORIGIN + "/2026", b"x"
        )
    tile = tmp_path / "site" / "2026" / "tile" / "0" / "000"
    tampered = bytearray(tile.read_bytes())
    tampered[5] ^= 1
    tile.write_bytes(bytes(tampered))
    with pytest.raises(LogIntegrityError):
        load_static_log(
            FolderAuditSource(tmp_path / "site" / "2026"), verifier, BASE_ORIGIN + "/2026"
        )


def test_signers_differ_per_shard() -> None:
    a, b = shard_signer(BASE_ORIGIN + "/2026"), shard_signer(BASE_ORIGIN + "/2027")
    assert a.verifier.vkey != b.verifier.vkey


@run_async
async def test_a_freeze_during_appends_leaves_each_entry_in_or_out_whole(
    shards_backend: Backend,
) -> None:
    clock = Clock(datetime(2026, 7, 1, tzinfo=UTC))
    log = shards_backend.sharded(ShardPolicy("year"), clock, max_batch=8)
    await log.start()
    try:
        tasks = [asyncio.create_task(log.append(entry(i, clock()))) for i in range(400)]
        await asyncio.sleep(0.005)  # some batches committed, others still queued
        final = await log.freeze("2026")
        results = await asyncio.gather(*tasks, return_exceptions=True)
        taken = [r for r in results if isinstance(r, ShardReceipt)]
        refused = [r for r in results if not isinstance(r, ShardReceipt)]
        assert all(isinstance(r, FrozenShardError) for r in refused)
        shard = log.shard("2026")
        size = final.checkpoint.size
        assert sorted(r.index for r in taken) == list(range(size))  # all in, no gap
        assert shard.store.entry_count() == size  # nothing of a refused append written
        assert await log.freeze("2026") == final  # idempotent
        with pytest.raises(UnknownShardError):
            await log.freeze("2025")
    finally:
        await log.stop()
