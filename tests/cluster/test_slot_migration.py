"""A slot migrated to another master while acts are written: no act lost or doubled.

Writers store anchored credentials (record and log entry in one transaction) from several
threads while the prefix's hash slot moves from its master to another one, key by key
(``CLUSTER SETSLOT … MIGRATING/IMPORTING``, ``MIGRATE``, ``SETSLOT … NODE``), as
``redis-cli --cluster reshard`` does. The stores meet ``ASK``, ``TRYAGAIN`` and ``MOVED``
and re-run only what did not run; afterwards every acknowledged act is stored once, with
exactly one log entry, and reconciliation finds nothing.
"""

from __future__ import annotations

import threading

import pytest
import redis
from redis.cluster import RedisCluster

from identity.errors import UnavailableError
from identity.log.reconcile import reconcile
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.stores import Anchor, CredentialRecord
from tests.cluster.acts import issued_act
from tests.cluster.servers import LocalCluster

pytestmark = pytest.mark.redis_cluster


def _act(n: int) -> tuple[CredentialRecord, Anchor]:
    return issued_act(n, None)


def _node_ids(port: int) -> dict[int, str]:
    lines = redis.Redis(port=port).execute_command("CLUSTER", "NODES").decode().splitlines()
    return {int(line.split()[1].split(":")[1].split("@")[0]): line.split()[0] for line in lines}


def _migrate(cluster: LocalCluster, slot: int, source: int, target: int) -> None:
    ids = _node_ids(source)
    src, dst = redis.Redis(port=source), redis.Redis(port=target)
    dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source])
    src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target])
    while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10):
        src.execute_command("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
    for port in cluster.ports:
        redis.Redis(port=port).execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[target])


def test_acts_written_during_a_slot_migration_are_each_stored_once(
    redis_cluster: LocalCluster, cluster_client: RedisCluster, redis_prefix: str
) -> None:
    store = RedisStore(cluster_client, redis_prefix)
    log = DurableRedisLogStore(cluster_client, redis_prefix)
    log.open("identity.example/log", b"k" * 32)
    tag = key_prefix(cluster_client, redis_prefix)
    slot = cluster_client.keyslot(tag)
    source = redis_cluster.master_of(tag)
    target = next(p for p in redis_cluster.ports if p != source)
    done: list[int] = []
    refused: list[int] = []
    stop = threading.Event()
    lock = threading.Lock()
    counter = iter(range(10**9))

    def write() -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
            record, anchor = _act(n)
            try:
                store.put_credential(record, anchor)
            except UnavailableError:
                with lock:
                    refused.append(n)
                continue
            with lock:
                done.append(n)

    writers = [threading.Thread(target=write) for _ in range(4)]
    for w in writers:
        w.start()
    try:
        while len(done) < 50:
            stop.wait(0.01)
        _migrate(redis_cluster, slot, source, target)
        before = len(done)
        while len(done) < before + 50:
            stop.wait(0.01)
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert redis_cluster.master_of(tag) == target
    assert not refused, f"{len(refused)} acts refused during the migration"
    assert store.count_credentials() == len(done)
    assert log.entry_count() == len(done)
    assert all(store.find_credential(_act(n)[0].id) is not None for n in done)
    assert reconcile(log, store) == []
