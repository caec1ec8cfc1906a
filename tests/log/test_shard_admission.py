"""A log shard's frozen flag and size limit checked inside the act's own transaction
(docs/log-shards.md, issue #16), on the memory, SQLite and real Redis record stores.

* A shard frozen between the moment an act picked it and its commit refuses the act
  (``FrozenShardError``, 409 ``…/log-shard-frozen``): no record, no entry, the catalog
  unchanged, and reconciliation finds nothing. On Redis the seal is injected *inside*
  the act's ``WATCH`` window: its ``EXEC`` fails and the retry refuses.
* A full shard spills the act into the next split of its period (``2026`` →
  ``2026.1``), put in the catalog by the same transaction.
* Concurrent writers -- threads, and real processes on SQLite and Redis -- against a size
  limit: no shard over it, each act in exactly one shard, no gap, reconciliation clean,
  the auditor passes on every shard.
* ``ShardedLog.freeze`` seals the catalog before it signs: writers racing the freeze land
  before the final checkpoint or are refused, never after it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from identity.errors import PROBLEMS
from identity.log.auditor import AuditState, audit_log
from identity.log.entries import LogEntry
from identity.log.reconcile import reconcile
from identity.log.shards import (
    FrozenShardError,
    ShardCatalog,
    ShardedLog,
    ShardPolicy,
    ShardReceipt,
    ShardRecord,
    UnknownShardError,
    plan_admission,
)
from identity.log.store import LogStore
from identity.storage.log_shards import (
    RedisShardCatalog,
    SQLiteShardCatalog,
    redis_shard_stores,
    sqlite_shard_tables,
)
from identity.storage.memory import MemoryStore
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis import RedisStore
from identity.storage.redis_log import RedisLogStore
from identity.storage.shard_catalog import memory_catalog
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_log import SQLiteLogStore
from identity.stores import Anchor, CredentialRecord
from tests.cluster.acts import issued_act
from tests.log.shard_fixtures import BASE_ORIGIN, ReaderSource, shard_signer

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def shard(name: str, limit: int | None = None) -> ShardRecord:
    """A writable catalog record of period 2026 (``2026`` or a split ``2026.<n>``)."""
    label, _, seq = name.partition(".")
    return ShardRecord(name, label, int(seq or 0), f"{BASE_ORIGIN}/{name}", limit=limit)


def act(n: int, name: str = "2026") -> tuple[CredentialRecord, Anchor]:
    """Credential ``n`` and its entry, anchored in shard ``name``."""
    record, anchor = issued_act(n, f"did:example:s{n % 5}")
    anchor.shard = name
    return record, anchor


@dataclass
class Records:
    """A record store with its shard catalog and shard stores beside it (as the service
    composes them); ``where`` reopens the same data in another process."""

    kind: str
    store: Any
    catalog: ShardCatalog
    open_store: Callable[[str], LogStore]
    unsharded: LogStore
    where: str


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis_server)])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Records]:
    if request.param == "memory":
        root = MemoryLogStore()
        yield Records("memory", MemoryStore(root), memory_catalog(root), root.shard, root, "")
    elif request.param == "sqlite":
        path = tmp_path / "identity.sqlite3"
        store, catalog = SqliteStore(path), SQLiteShardCatalog(path)
        yield Records(
            "sqlite", store, catalog, sqlite_shard_tables(path), SQLiteLogStore(path), str(path)
        )
        store.close()
        catalog.close()
    else:
        from tests.storage.redis_backends import new_prefix, real_redis

        prefix = new_prefix()
        with real_redis(prefix) as client:
            yield Records(
                "redis",
                RedisStore(client, prefix),
                RedisShardCatalog(client, prefix),
                redis_shard_stores(client, prefix),
                RedisLogStore(client, prefix),
                prefix,
            )


def entries_of(records: Records, name: str) -> list[bytes]:
    store = records.open_store(name)
    return store.read_entries(0, store.entry_count())


def names(records: Records) -> list[str]:
    return [r.name for r in records.catalog.records()]


def test_the_rule_refuses_a_frozen_shard_and_spills_a_full_one() -> None:
    catalog = {"2026": shard("2026", 2), "2026.1": shard("2026.1", 2)}
    counts = {"2026": 1, "2026.1": 0}
    plan = plan_admission(["2026"] * 4, catalog.get, counts.__getitem__)
    assert plan.parts == [("2026", 1), ("2026.1", 2), ("2026.2", 1)]
    assert plan.added == [shard("2026.2", 2)]
    catalog["2026"] = ShardRecord("2026", "2026", 0, f"{BASE_ORIGIN}/2026", sealed=True)
    with pytest.raises(FrozenShardError) as refused:
        plan_admission(["2026"], catalog.get, counts.__getitem__)
    assert refused.value.type_uri == PROBLEMS + "log-shard-frozen"
    # an act already committed (the cluster's outbox) is never refused: the next split
    plan = plan_admission(["2026"], catalog.get, counts.__getitem__, refuse=False)
    assert plan.parts == [("2026.1", 1)]
    with pytest.raises(UnknownShardError):
        plan_admission(["1999"], catalog.get, counts.__getitem__)


def test_a_shard_frozen_before_the_commit_refuses_the_act(records: Records) -> None:
    records.catalog.add(shard("2026"))
    first, anchor = act(1)
    records.store.put_credential(first, anchor)  # picked 2026 and landed there
    second, late = act(2)  # picks 2026 too ...
    records.catalog.seal("2026")  # ... which starts freezing before the act commits
    with pytest.raises(FrozenShardError) as refused:
        records.store.put_credential(second, late)
    assert refused.value.type_uri == PROBLEMS + "log-shard-frozen"
    assert late.index is None and records.store.find_credential(second.id) is None
    assert entries_of(records, "2026") == [anchor.entry]  # nothing half-written
    assert names(records) == ["2026"]
    shard_store = records.open_store("2026")
    assert reconcile(records.unsharded, records.store, None, [("2026", shard_store)]) == []


@pytest.mark.redis_server
def test_a_seal_inside_the_acts_watch_window_refuses_it(tmp_path: Path) -> None:
    from tests.storage.redis_backends import new_prefix, real_redis

    prefix = new_prefix()
    with real_redis(prefix) as client:
        store, catalog = RedisStore(client, prefix), RedisShardCatalog(client, prefix)
        catalog.add(shard("2026"))
        record, anchor = act(1)
        sealed = []
        next_entry = store._next_entry

        def seal_once(pipe: Any, name: str | None = None) -> int:
            if not sealed:  # after the act read the catalog, before its EXEC
                sealed.append(name)
                RedisShardCatalog(client, prefix).seal("2026")
            return next_entry(pipe, name)

        store._next_entry = seal_once  # type: ignore[method-assign]
        with pytest.raises(FrozenShardError):
            store.put_credential(record, anchor)
        assert sealed == ["2026"]
        assert store.find_credential(record.id) is None
        assert redis_shard_stores(client, prefix)("2026").entry_count() == 0


def test_a_full_shard_spills_into_the_next_split_in_the_same_transaction(
    records: Records,
) -> None:
    records.catalog.add(shard("2026", limit=3))
    batch = [act(n) for n in range(5)]
    outcomes = records.store.put_credentials([r for r, _ in batch], [a for _, a in batch])
    assert outcomes == [None] * 5
    assert [(a.shard, a.index) for _, a in batch] == [
        ("2026", 0),
        ("2026", 1),
        ("2026", 2),
        ("2026.1", 0),
        ("2026.1", 1),
    ]
    assert [records.store.get_credential(r.id).log_index for r, _ in batch] == [0, 1, 2, 0, 1]
    assert names(records) == ["2026", "2026.1"]  # listed by the act's own transaction
    assert records.catalog.records()[1] == shard("2026.1", limit=3)
    assert entries_of(records, "2026.1") == [a.entry for _, a in batch[3:]]
    # a full shard that is frozen too sends the next act on without refusing it
    records.catalog.seal("2026")
    record, anchor = act(9)
    records.store.put_credential(record, anchor)
    assert (anchor.shard, anchor.index) == ("2026.1", 2)
    # an act whose shard is not in the catalog is refused (the service lists it first)
    stray, unknown = act(10, "2031")
    with pytest.raises(UnknownShardError):
        records.store.put_credential(stray, unknown)
    assert records.store.find_credential(stray.id) is None


async def integrate_and_audit(records: Records, total: int, limit: int) -> list[str]:
    """Open every catalogued shard, wait for its checkpoint, audit it; check each act is
    in exactly one shard, no shard over ``limit``, no gap; reconcile. The shard names."""
    log = ShardedLog(
        ShardPolicy("year", limit),
        BASE_ORIGIN,
        records.catalog,
        records.open_store,
        shard_signer,
        clock=lambda: NOW,
        max_delay_ms=1.0,
    )
    await log.start()
    try:
        digests: list[str] = []
        for opened in log.shards():
            size = opened.store.entry_count()
            assert 0 < size <= limit
            inclusion = await log.wait_for_checkpoint(
                ShardReceipt(opened.name, opened.origin, size - 1)
            )
            assert inclusion.checkpoint.checkpoint.size == size  # no gap: 0 … size-1
            found = opened.reader.entries(list(range(size)))
            digests += [LogEntry.parse(e).fields["credential_digest"] for e in found]
            report = audit_log(ReaderSource(opened.reader), opened.signer.verifier, AuditState())
            assert report.checkpoint.checkpoint.size == size
        assert len(digests) == len(set(digests)) == total
        shards = [(s.name, s.store) for s in log.shards()]
        assert reconcile(records.unsharded, records.store, None, shards) == []
        assert records.store.count_credentials() == total
        return [s.name for s in log.shards()]
    finally:
        await log.stop()


def test_threads_against_a_size_limit(records: Records) -> None:
    records.catalog.add(shard("2026", limit=7))

    def writer(worker: int) -> None:
        for n in range(15):
            number = worker * 1000 + n
            if n % 3 == 0:  # some single acts, some group commits of two
                batch = [act(number), act(number + 500)]
                records.store.put_credentials([r for r, _ in batch], [a for _, a in batch])
            else:
                records.store.put_credential(*act(number))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(writer, range(6)))
    total = 6 * (15 + 5)
    shards = asyncio.run(integrate_and_audit(records, total, 7))
    assert shards == ["2026"] + [f"2026.{n}" for n in range(1, len(shards))]
    assert len(shards) == -(-total // 7)  # every shard full but the last


def process_writer(kind: str, where: str, worker: int, count: int, url: str = "") -> None:
    """A writer process: ``count`` acts into shard 2026 through its own record store
    (``url``: a Redis Cluster's, for ``kind`` ``cluster``)."""
    if kind == "sqlite":
        store: Any = SqliteStore(where)
    elif kind == "cluster":
        store = RedisStore.from_url(url, where)
    else:
        import redis

        url = os.environ.get("IDENTITY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        store = RedisStore(redis.Redis.from_url(url), where)
    for n in range(count):
        store.put_credential(*act(worker * 1000 + n))
    store.close()


@pytest.mark.parametrize(
    "records", ["sqlite", pytest.param("redis", marks=pytest.mark.redis_server)], indirect=True
)
def test_processes_against_a_size_limit(records: Records) -> None:
    records.catalog.add(shard("2026", limit=10))
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(target=process_writer, args=(records.kind, records.where, w, 20))
        for w in range(3)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    shards = asyncio.run(integrate_and_audit(records, 60, 10))
    assert shards == ["2026", "2026.1", "2026.2", "2026.3", "2026.4", "2026.5"]


def test_freeze_never_signs_over_entries_arriving_after_it(records: Records) -> None:
    """Writers race ``freeze``: every act lands before the final checkpoint (covered by
    it) or is refused -- the final checkpoint's size is the shard's entry count."""

    async def run() -> None:
        log = ShardedLog(
            ShardPolicy("year"),
            BASE_ORIGIN,
            records.catalog,
            records.open_store,
            shard_signer,
            clock=lambda: NOW,
            max_delay_ms=1.0,
        )
        await log.start()
        stop = threading.Event()
        landed: list[Anchor] = []
        refused: list[int] = []

        def writer(worker: int) -> None:
            n = 0
            while not stop.is_set() and n < 400:
                record, anchor = act(worker * 1000 + n)
                n += 1
                try:
                    records.store.put_credential(record, anchor)
                    landed.append(anchor)
                except FrozenShardError:
                    refused.append(n)
                    return

        try:
            threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
            for thread in threads:
                thread.start()
            while len(landed) < 20:
                await asyncio.sleep(0.005)
            final = await log.freeze("2026")
            stop.set()
            for thread in threads:
                thread.join()
            count = records.open_store("2026").entry_count()
            assert final.checkpoint.size == count == len(landed)
            assert sorted(a.index or 0 for a in landed) == list(range(count))
            assert all(a.shard == "2026" for a in landed)
        finally:
            stop.set()
            await log.stop()

    records.catalog.add(shard("2026"))
    asyncio.run(run())
    record, anchor = act(99999)
    with pytest.raises(FrozenShardError):  # and after the freeze, by every backend
        records.store.put_credential(record, anchor)
