"""Issuances on a real local Redis Cluster anchored in log shards (issue #16, item 3;
docs/log-shards.md): the record and its outbox entry stay in the record's slot, and the
admission appends each entry into the shard its anchor names.

One group commit crosses a boundary (entries for ``2026-06`` and ``2026-07``), and its
writer stops after any step -- also between the two shards' appends. The drain finishes
the act: each entry is in exactly one shard, once, even when the drain runs again, and
reconciliation over both shards finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from redis.cluster import RedisCluster

from identity.log.reconcile import reconcile
from identity.log.shards import ShardRecord
from identity.storage.log_shards import RedisShardCatalog
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_log_keys import shard_log_keys
from identity.storage.redis_spread import SpreadCredentials
from identity.stores import Anchor, CredentialRecord
from tests.cluster.acts import issued_act

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
