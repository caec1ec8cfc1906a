"""Credentials spread over every master of a real local Redis Cluster, each issuance exact
(issue #16, item 1; :mod:`identity.storage.redis_spread`).

Shown here: after N issuances every master holds credential keys (``CLUSTER
COUNTKEYSINSLOT`` per bucket slot, per-node ``DBSIZE``); a writer that stops after any
step of an issuance leaves nothing a reader sees half-written, and the drain finishes the
act so reconciliation finds nothing; writers and drains racing each other admit each act
once; a taken id is refused by every racer but one.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from identity.log.reconcile import ORPHAN, reconcile
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_spread import SPREAD_BUCKETS, SpreadCredentials
from identity.stores import Anchor, CredentialRecord
from service.log_cli import run_reconcile
from service.settings import Settings
from tests.cluster.acts import issued_act
from tests.cluster.servers import LocalCluster

pytestmark = pytest.mark.redis_cluster


def _act(n: int, subject: str | None = None) -> tuple[CredentialRecord, Anchor]:
    return issued_act(n, subject or f"did:example:s{n % 7}")


@pytest.fixture
def stores(
    cluster_client: RedisCluster, redis_prefix: str
) -> Iterator[tuple[RedisStore, DurableRedisLogStore]]:
    store = RedisStore(cluster_client, redis_prefix)
    log = DurableRedisLogStore(cluster_client, redis_prefix)
    log.open("identity.example/log", b"k" * 32)
    yield store, log


def _spread(store: RedisStore) -> SpreadCredentials:
    spread = store._spread
    assert spread is not None
    return spread


def test_issuances_spread_over_every_master(
    redis_cluster: LocalCluster,
    cluster_client: RedisCluster,
    stores: tuple[RedisStore, DurableRedisLogStore],
) -> None:
    store, log = stores
    spread = _spread(store)
    sizes_before = {p: redis.Redis(port=p).dbsize() for p in redis_cluster.ports}
    n = 600
    for at in range(0, n, 50):
        store.put_credentials(*map(list, zip(*(_act(i) for i in range(at, at + 50)), strict=True)))
    per_master: Counter[int] = Counter()
    for bucket in range(SPREAD_BUCKETS):
        key = spread.tag(bucket) + "credentials"
        slot = cluster_client.keyslot(key)
        port = redis_cluster.master_of(key)
        keys = redis.Redis(port=port).execute_command("CLUSTER", "COUNTKEYSINSLOT", slot)
        per_master[port] += int(keys)
    assert set(per_master) == set(redis_cluster.ports)  # every master holds credentials
    # each record is a key in its bucket, plus digest and subject keys and the id sets
    assert sum(per_master.values()) >= 2 * n
    assert min(per_master.values()) > sum(per_master.values()) / 6, per_master
    growth = {p: redis.Redis(port=p).dbsize() - sizes_before[p] for p in redis_cluster.ports}
    assert all(g > n / 6 for g in growth.values()), growth
    assert store.count_credentials() == n == log.entry_count()
    assert reconcile(log, store) == []


def test_the_registry_and_the_log_share_the_prefix_slot(
    cluster_client: RedisCluster, redis_prefix: str, stores: tuple[RedisStore, DurableRedisLogStore]
) -> None:
    """Acts that touch the log in their own transaction (status lists, issuers, types) stay
    co-located with it by the prefix's tag; credentials go to their buckets."""
    store, _ = stores
    record, anchor = _act(1)
    store.put_credential(record, anchor)
    picks = iter(range(16))
    store.reserve_status_indices("i", 2, lambda size: next(picks), 16, ["revocation"])
    tag = key_prefix(cluster_client, redis_prefix)
    shared = list(cluster_client.scan_iter(match=tag + "*"))
    assert len(shared) >= 4  # the log's keys, status groups and lists
    assert {cluster_client.keyslot(k) for k in shared} == {cluster_client.keyslot(tag)}
    credential_key = _spread(store).credential_key(record.id)
    assert cluster_client.exists(credential_key)
    assert not any(b"credential:" in k for k in shared)


STEPS = ["_finish", "_index", "_settle", "_forget"]
"""Where a writer stops: before admission, after it (before the indexes), after the
indexes (before settling), after settling (before deleting its outbox entry)."""


class _Stop(Exception):
    """The writer process dies here."""


def _stop_at(spread: SpreadCredentials, step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def stop(*args: object) -> None:
        raise _Stop

    monkeypatch.setattr(spread, step, stop)


@pytest.mark.parametrize("step", STEPS)
def test_a_writer_stopped_after_any_step_is_finished_by_the_drain(
    stores: tuple[RedisStore, DurableRedisLogStore], step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, log = stores
    spread = _spread(store)
    done, done_anchor = _act(1, "did:example:holder")
    store.put_credential(done, done_anchor)
    record, anchor = _act(2, "did:example:holder")
    with monkeypatch.context() as patch:
        _stop_at(spread, step, patch)
        with pytest.raises(_Stop):
            store.put_credential(record, anchor)
    assert anchor.index is None  # never acknowledged
    if step != "_forget":  # nothing half-written is visible
        assert store.find_credential(record.id) is None
        assert store.find_credential_by_digest(record.digest) is None
        assert [c.id for c in store.credentials_of_subject("did:example:holder")] == [done.id]
        assert store.count_credentials() == 1
        assert [c.id for c in store.iter_credentials()] == [done.id]
    assert spread.pending() == 1
    findings = reconcile(log, store)
    if step in ("_index", "_settle"):  # admitted, not yet visible: an act in flight
        assert [f.problem for f in findings] == [ORPHAN]
    assert store.drain_outbox() == 1
    assert spread.pending() == 0
    stored = store.get_credential(record.id)
    assert stored.log_index == 1 and log.entry_count() == 2
    assert log.read_entries(1, 2) == [anchor.entry]
    assert store.find_credential_by_digest(record.digest) == stored
    assert [c.id for c in store.credentials_of_subject("did:example:holder")] == [
        done.id,
        record.id,
    ]
    assert store.count_credentials() == 2
    assert reconcile(log, store) == []
    assert store.drain_outbox() == 0  # nothing twice


def test_writers_and_drains_racing_admit_each_act_once(
    stores: tuple[RedisStore, DurableRedisLogStore],
) -> None:
    store, log = stores
    stop = threading.Event()
    counter = iter(range(10**9))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write() -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
            store.put_credential(*_act(n))

    def drain() -> None:
        while not stop.is_set():
            store.drain_outbox()

    def guarded(fn: object) -> object:
        def run() -> None:
            try:
                fn()  # type: ignore[operator]
            except BaseException as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(write)) for _ in range(4)]
    threads += [threading.Thread(target=guarded(drain)) for _ in range(2)]
    for t in threads:
        t.start()
    stop.wait(3.0)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    assert store.drain_outbox() == 0
    assert store.count_credentials() == log.entry_count() > 20
    assert reconcile(log, store) == []


def test_racers_for_one_id_store_it_once(stores: tuple[RedisStore, DurableRedisLogStore]) -> None:
    store, log = stores
    outcomes: list[object] = []
    barrier = threading.Barrier(6)

    def race() -> None:
        record, anchor = _act(7)
        barrier.wait()
        [outcome] = store.put_credentials([record], [anchor])
        outcomes.append(outcome)

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o is None for o in outcomes) == 1
    assert store.count_credentials() == 1 == log.entry_count()
    assert reconcile(log, store) == []


def test_log_reconcile_finishes_acts_in_flight_first(
    redis_cluster: LocalCluster,
    stores: tuple[RedisStore, DurableRedisLogStore],
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``identity log reconcile`` drains the outbox, then finds nothing."""
    store, _ = stores
    record, anchor = _act(3)
    with monkeypatch.context() as patch:
        _stop_at(_spread(store), "_settle", patch)
        with pytest.raises(_Stop):
            store.put_credential(record, anchor)
    settings = Settings(
        data_dir=tmp_path,
        storage_url=redis_cluster.url,
        redis_prefix=redis_prefix,
        admin_token="admin-token-" + "x" * 32,
        master_secret="ab" * 32,
    )
    lines: list[str] = []
    assert run_reconcile(settings, echo=lines.append) == 0, lines
    assert lines[0] == "finished 1 issuances left in flight before reconciling"
    assert lines[-1].startswith("reconcile ok: 1 log entries")
    assert store.find_credential(record.id) is not None
