"""Issuances on a real local Redis Cluster anchored in log shards (issue #16, item 3;
docs/log-shards.md): the record and its outbox entry stay in the record's slot, and the
admission appends each entry into the shard its anchor names.

One group commit crosses a boundary (entries for ``2026-06`` and ``2026-07``), and its
writer stops after any step -- also between the two shards' appends. The drain finishes
the act: each entry is in exactly one shard, once, even when the drain runs again, and
reconciliation over both shards finds nothing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from redis.cluster import RedisCluster

from identity.log.reconcile import reconcile
from identity.log.shards import FrozenShardError, ShardRecord, UnknownShardError, plan_admission
from identity.log.tiles import encode_bundle
from identity.storage.log_shards import RedisShardCatalog, redis_shard_stores
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_log_keys import shard_log_keys
from identity.storage.redis_spread import SpreadCredentials
from identity.stores import Anchor, CredentialRecord
from tests.cluster.acts import issued_act
from tests.cluster.servers import LocalCluster
from tests.log.test_shard_admission import Records, integrate_and_audit, process_writer
from tests.log.test_shard_admission import act as limited_act
from tests.log.test_shard_admission import shard as limited

pytestmark = pytest.mark.redis_cluster

ORIGIN = "identity.example/log"
SHARDS = ("2026-06", "2026-07")


@pytest.fixture
def stores(
    cluster_client: RedisCluster, redis_prefix: str
) -> Iterator[tuple[RedisStore, DurableRedisLogStore, dict[str, DurableRedisLogStore]]]:
    store = RedisStore(cluster_client, redis_prefix)
    log = DurableRedisLogStore(cluster_client, redis_prefix)
    log.open(ORIGIN, b"k" * 32)
    tagged = key_prefix(cluster_client, redis_prefix)
    catalog = RedisShardCatalog(cluster_client, redis_prefix)  # type: ignore[arg-type]
    shards = {}
    for name in SHARDS:
        catalog.add(ShardRecord(name, name, 0, f"{ORIGIN}/{name}"))
        shards[name] = DurableRedisLogStore(
            cluster_client, redis_prefix, keys=shard_log_keys(tagged, name)
        )
        shards[name].open(f"{ORIGIN}/{name}", b"k" * 32)
    yield store, log, shards


def _batch(first: int) -> tuple[list[CredentialRecord], list[Anchor]]:
    """Four credentials, the first two anchored in June, the others in July."""
    records, anchors = [], []
    for n in range(first, first + 4):
        record, anchor = issued_act(n, f"did:example:s{n % 3}")
        records.append(record)
        anchors.append(replace(anchor, shard=SHARDS[(n - first) // 2]))
    return records, anchors


class _Stop(Exception):
    """The writer process dies here."""


def _entries(store: DurableRedisLogStore) -> list[bytes]:
    return store.read_entries(0, store.entry_count())


def _spread(store: RedisStore) -> SpreadCredentials:
    spread = store._spread
    assert spread is not None
    return spread


def test_shards_are_in_the_records_slot(cluster_client: RedisCluster, redis_prefix: str) -> None:
    tagged = key_prefix(cluster_client, redis_prefix)
    slot = cluster_client.keyslot(tagged + "issuers")
    for name in SHARDS:
        keys = shard_log_keys(tagged, name)
        assert cluster_client.keyslot(keys.size) == slot
        assert cluster_client.keyslot(keys.entry_bundle(3)) == slot


def test_a_batch_across_a_boundary_lands_once_in_each_shard(
    stores: tuple[RedisStore, DurableRedisLogStore, dict[str, DurableRedisLogStore]],
) -> None:
    store, log, shards = stores
    records, anchors = _batch(1)
    assert store.put_credentials(records, anchors) == [None] * 4
    assert [a.index for a in anchors] == [0, 1, 0, 1]
    assert _entries(shards["2026-06"]) == [a.entry for a in anchors[:2]]
    assert _entries(shards["2026-07"]) == [a.entry for a in anchors[2:]]
    assert log.entry_count() == 0  # nothing in the unsharded log
    assert reconcile(log, store, None, list(shards.items())) == []


@pytest.mark.parametrize("step", ["_finish", "between shards", "_index", "_settle", "_forget"])
def test_a_writer_stopped_after_any_step_is_finished_into_the_shards(
    stores: tuple[RedisStore, DurableRedisLogStore, dict[str, DurableRedisLogStore]],
    step: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, log, shards = stores
    spread = _spread(store)
    records, anchors = _batch(10)
    with monkeypatch.context() as patch:
        if step == "between shards":  # the first shard's append ran, the second did not
            admit = spread._admit_shard
            calls = [0]

            def once(**kwargs: Any) -> Any:
                calls[0] += 1
                if calls[0] == 2:
                    raise _Stop
                return admit(**kwargs)

            patch.setattr(spread, "_admit_shard", once)
        else:

            def stop(*args: object) -> None:
                raise _Stop

            patch.setattr(spread, step, stop)
        with pytest.raises(_Stop):
            store.put_credentials(records, anchors)
    assert all(a.index is None for a in anchors)  # never acknowledged
    assert spread.pending() == 1
    assert store.drain_outbox() == 1
    assert store.drain_outbox() == 0  # nothing twice
    june, july = _entries(shards["2026-06"]), _entries(shards["2026-07"])
    assert june == [a.entry for a in anchors[:2]] and july == [a.entry for a in anchors[2:]]
    assert [store.get_credential(r.id).log_index for r in records] == [0, 1, 0, 1]
    assert log.entry_count() == 0
    assert reconcile(log, store, None, list(shards.items())) == []


# -- the frozen flag and the size limit, checked by the admission script (issue #16) ---


def _catalog(client: RedisCluster, prefix: str) -> RedisShardCatalog:
    return RedisShardCatalog(client, prefix)  # type: ignore[arg-type]


def test_an_act_whose_shard_is_frozen_is_refused_before_anything_is_written(
    stores: tuple[RedisStore, DurableRedisLogStore, dict[str, DurableRedisLogStore]],
    cluster_client: RedisCluster,
    redis_prefix: str,
) -> None:
    store, _, shards = stores
    _catalog(cluster_client, redis_prefix).seal("2026-06")
    record, anchor = issued_act(70, "did:example:s1")
    anchor.shard = "2026-06"
    with pytest.raises(FrozenShardError) as refused:
        store.put_credential(record, anchor)
    assert refused.value.type_uri.endswith("/problems/log-shard-frozen")
    assert anchor.index is None and store.find_credential(record.id) is None
    assert _spread(store).pending() == 0  # no intent, no claim
    assert shards["2026-06"].entry_count() == 0
    stray, unknown = issued_act(71, None)
    unknown.shard = "2031-01"
    with pytest.raises(UnknownShardError):
        store.put_credential(stray, unknown)
    assert store.find_credential(stray.id) is None


@pytest.mark.parametrize("drained", [False, True])
def test_a_shard_frozen_after_the_intent_gets_the_act_in_its_next_split(
    stores: tuple[RedisStore, DurableRedisLogStore, dict[str, DurableRedisLogStore]],
    cluster_client: RedisCluster,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    drained: bool,
) -> None:
    """The act is committed (its outbox entry) when June freezes: it cannot be refused, so
    the admission script puts it in ``2026-06.1`` (listed first), and the receipt and the
    record's ``log_index`` say so -- written by the writer, or by a drain after it died."""
    store, log, shards = stores
    spread = _spread(store)
    records, anchors = _batch(30)
    intend = spread._intend

    def then_freeze(act: Any) -> Any:
        touched = intend(act)
        _catalog(cluster_client, redis_prefix).seal("2026-06")
        if drained:
            raise _Stop  # the writer dies right after its intent
        return touched

    monkeypatch.setattr(spread, "_intend", then_freeze)
    if drained:
        with pytest.raises(_Stop):
            store.put_credentials(records, anchors)
        monkeypatch.undo()
        assert store.drain_outbox() == 1 and store.drain_outbox() == 0
        places = [(None, store.get_credential(r.id).log_index) for r in records]
    else:
        assert store.put_credentials(records, anchors) == [None] * 4
        places = [(a.shard, a.index) for a in anchors]
        assert places == [("2026-06.1", 0), ("2026-06.1", 1), ("2026-07", 0), ("2026-07", 1)]
    catalog = _catalog(cluster_client, redis_prefix).records()
    assert [r.name for r in catalog] == ["2026-06", "2026-07", "2026-06.1"]
    assert catalog[2] == ShardRecord("2026-06.1", "2026-06", 1, f"{ORIGIN}/2026-06.1")
    split = DurableRedisLogStore(
        cluster_client,
        redis_prefix,
        keys=shard_log_keys(key_prefix(cluster_client, redis_prefix), "2026-06.1"),
    )
    split.open(f"{ORIGIN}/2026-06.1", b"k" * 32)
    assert _entries(split) == [a.entry for a in anchors[:2]]
    assert _entries(shards["2026-06"]) == []  # nothing after June's seal
    assert [store.get_credential(r.id).log_index for r in records] == [0, 1, 0, 1]
    assert [index for _, index in places] == [0, 1, 0, 1]
    every = [*shards.items(), ("2026-06.1", split)]
    assert reconcile(log, store, None, every) == []


def _cluster_records(
    client: RedisCluster, prefix: str, store: RedisStore, log: DurableRedisLogStore
) -> Records:
    stores = redis_shard_stores(client, prefix, DurableRedisLogStore)
    return Records("cluster", store, _catalog(client, prefix), stores, log, prefix)


def test_threads_and_processes_against_a_size_limit_on_the_cluster(
    cluster_client: RedisCluster, redis_prefix: str, redis_cluster: LocalCluster
) -> None:
    store = RedisStore(cluster_client, redis_prefix)
    log = DurableRedisLogStore(cluster_client, redis_prefix)
    log.open(ORIGIN, b"k" * 32)
    records = _cluster_records(cluster_client, redis_prefix, store, log)
    records.catalog.add(limited("2026", limit=6))

    def writer(worker: int) -> None:
        for n in range(8):
            number = 10_000 + worker * 100 + n
            if n % 4 == 0:  # a group commit of two, else single acts
                batch = [limited_act(number), limited_act(number + 50)]
                store.put_credentials([r for r, _ in batch], [a for _, a in batch])
            else:
                store.put_credential(*limited_act(number))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(writer, range(4)))
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(
            target=process_writer, args=("cluster", redis_prefix, w, 6, redis_cluster.url)
        )
        for w in range(2)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    total = 4 * 10 + 2 * 6
    names = asyncio.run(integrate_and_audit(records, total, 6))
    assert names == ["2026"] + [f"2026.{n}" for n in range(1, len(names))]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_admission_script_routes_as_plan_admission(
    cluster_client: RedisCluster, redis_prefix: str, seed: int
) -> None:
    """The cluster's admission script applies the rule of ``plan_admission`` (with
    ``refuse=False``: the act is committed already) -- checked against it on random
    batches, limits and seals: the same shard, index and catalog additions for every entry."""
    rng = random.Random(seed)
    store = RedisStore(cluster_client, redis_prefix)
    spread = _spread(store)
    catalog = _catalog(cluster_client, redis_prefix)
    limit = rng.randint(2, 6)
    catalog.add(limited("2026", limit=limit))
    model: dict[str, ShardRecord] = {"2026": limited("2026", limit=limit)}
    sizes: dict[str, int] = {}
    tagged = key_prefix(cluster_client, redis_prefix)
    for step in range(14):
        if rng.random() < 0.15:  # a freeze begins somewhere
            name = rng.choice(list(model))
            catalog.seal(name)
            model[name] = replace(model[name], sealed=True)
        count = rng.randint(1, 5)
        plan = plan_admission(["2026"] * count, model.get, lambda n: sizes.get(n, 0), refuse=False)
        expected = []
        for name, taken in plan.parts:
            expected += [(name, sizes.get(name, 0) + i) for i in range(taken)]
            sizes[name] = sizes.get(name, 0) + taken
        for record in plan.added:
            model[record.name] = record
        bundles = [encode_bundle([f"entry {step}.{i}".encode()]) for i in range(count)]
        keys = shard_log_keys(tagged, "2026")
        assert spread._admit_one("2026", keys, f"t{step}", bundles) == expected
        assert spread._admit_one("2026", keys, f"t{step}", bundles) == expected  # once
    assert {r.name: r for r in catalog.records()} == model
