"""The LogStore contract of identity/log/store.py, on every backend (memory, SQLite, Redis).

tests/log/ has no store contract suite yet, so these are its assertions, written against
the docstring of :mod:`identity.log.store`; the memory store is the oracle. The ``redis``
backend is a real server (skipped when none answers, failing under CI); ``fakeredis``
needs lupa for the Lua scripts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from identity.errors import ConflictError, LogIntegrityError, MalformedValueError, NotFoundError
from identity.log.store import LogStore
from identity.log.tree import EMPTY_FRONTIER, Frontier, MerkleTree, extend, leaf_hashes
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_log import RedisLogStore
from identity.storage.sqlite_log import SQLiteLogStore
from tests.storage.redis_backends import REDIS_URL, fake_redis, new_prefix, real_redis

ORIGIN, KEY = "identity.example/log", b"k" * 32
LOG_BACKENDS = [
    "memory",
    "sqlite",
    "fakeredis",
    pytest.param("redis", marks=pytest.mark.redis_server),
    pytest.param("cluster", marks=pytest.mark.redis_cluster),
]


@pytest.fixture(params=LOG_BACKENDS)
def log_store(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Iterator[LogStore]:
    prefix = redis_prefix
    store: LogStore
    if request.param == "memory":
        store = MemoryLogStore()
    elif request.param == "sqlite":
        store = SQLiteLogStore(tmp_path / "log.sqlite3")
    elif request.param == "fakeredis":
        store = RedisLogStore(fake_redis(lua=True), prefix=prefix)
    elif request.param == "cluster":
        store = DurableRedisLogStore(request.getfixturevalue("cluster_client"), prefix=prefix)
    else:
        with real_redis(prefix) as client:
            store = RedisLogStore(client, prefix=prefix)
            store.open(ORIGIN, KEY)
            yield store
            store.close()
        return
    store.open(ORIGIN, KEY)
    yield store
    store.close()


def entries(n: int, start: int = 0) -> list[bytes]:
    return [f"entry {i}".encode() * (1 + i % 3) for i in range(start, start + n)]


def integrate_all(
    store: LogStore, frontier: Frontier, new: list[bytes], expected: bytes | None
) -> tuple[Frontier, bytes]:
    """Integrate ``new`` on top of ``frontier``; the 'checkpoint' is just the new root."""
    frontier, runs = extend(frontier, leaf_hashes(new))
    checkpoint = b"checkpoint " + frontier.root()
    store.integrate(expected, checkpoint, runs)
    return frontier, checkpoint


def test_open_accepts_the_same_log_and_refuses_another(log_store: LogStore) -> None:
    log_store.open(ORIGIN, KEY)  # the same log again
    with pytest.raises(LogIntegrityError):
        log_store.open("other.example/log", KEY)
    with pytest.raises(LogIntegrityError):
        log_store.open(ORIGIN, b"x" * 32)


def test_appends_get_contiguous_indices_and_read_back_exactly(log_store: LogStore) -> None:
    assert log_store.append_entries(entries(3)) == 0
    assert log_store.append_entries(entries(300, 3)) == 3  # crosses a 256-entry bundle
    assert log_store.append_entries([]) == 303
    assert log_store.entry_count() == 303
    assert log_store.read_entries(0, 303) == entries(303)
    assert log_store.read_entries(250, 262) == entries(12, 250)
    assert log_store.read_entries(256, 256) == []


def test_reading_unsequenced_entries_is_not_found(log_store: LogStore) -> None:
    log_store.append_entries(entries(5))
    with pytest.raises(NotFoundError):
        log_store.read_entries(3, 6)
    with pytest.raises(NotFoundError):
        log_store.read_entries(-1, 2)


def test_integrated_hashes_match_the_reference_tree(log_store: LogStore) -> None:
    data = entries(700)
    frontier, checkpoint = integrate_all(log_store, EMPTY_FRONTIER, data[:300], None)
    integrate_all(log_store, frontier, data[300:], checkpoint)
    tree = MerkleTree()
    for entry in data:
        tree.append(entry)
    addresses = [(0, 0), (0, 699), (1, 349), (2, 100), (8, 1), (9, 0)]
    assert log_store.read_nodes(addresses) == tree.nodes.read(addresses)
    assert log_store.read_hash_tile(0, 2) == bytes(tree.nodes.levels[0][512 * 32 :])
    assert log_store.read_hash_tile(0, 0) == bytes(tree.nodes.levels[0][: 256 * 32])
    assert log_store.read_hash_tile(8, 0) == bytes(tree.nodes.levels[8])
    assert log_store.read_hash_tile(0, 3) == b""
    with pytest.raises(LogIntegrityError):
        log_store.read_nodes([(0, 700)])


def test_integrate_is_a_compare_and_swap_on_the_checkpoint(log_store: LogStore) -> None:
    assert log_store.latest_checkpoint() is None
    frontier, first = integrate_all(log_store, EMPTY_FRONTIER, entries(4), None)
    assert log_store.latest_checkpoint() == first
    _, runs = extend(EMPTY_FRONTIER, leaf_hashes(entries(4, 100)))
    with pytest.raises(ConflictError):
        log_store.integrate(None, b"forked", runs)  # "none yet" is stale now
    with pytest.raises(ConflictError):
        log_store.integrate(b"an old checkpoint", b"forked", runs)
    assert log_store.latest_checkpoint() == first
    assert log_store.read_hash_tile(0, 0) == b"".join(leaf_hashes(entries(4)))
    integrate_all(log_store, frontier, entries(1, 4), first)


def test_a_run_that_leaves_a_gap_is_refused_and_writes_nothing(log_store: LogStore) -> None:
    _, first = integrate_all(log_store, EMPTY_FRONTIER, entries(4), None)
    leaf = leaf_hashes([b"late"])[0]
    with pytest.raises(LogIntegrityError):
        log_store.integrate(first, b"next", [(0, 4, leaf), (0, 9, leaf)])
    with pytest.raises(LogIntegrityError):
        log_store.integrate(first, b"next", [(0, 5, leaf)])
    assert log_store.latest_checkpoint() == first
    assert log_store.read_hash_tile(0, 0) == b"".join(leaf_hashes(entries(4)))
    assert log_store.find_leaf(leaf, 100) is None


def test_find_leaf_returns_the_lowest_index_below_the_bound(log_store: LogStore) -> None:
    data = [b"a", b"b", b"a", b"c"]
    integrate_all(log_store, EMPTY_FRONTIER, data, None)
    [a, b, _, c] = leaf_hashes(data)
    assert log_store.find_leaf(a, 4) == 0
    assert log_store.find_leaf(c, 4) == 3
    assert log_store.find_leaf(c, 3) is None
    assert log_store.find_leaf(b, 1) is None
    assert log_store.find_leaf(leaf_hashes([b"zz"])[0], 4) is None


def test_concurrent_appends_get_unique_gap_free_indices(log_store: LogStore) -> None:
    got: list[tuple[int, list[bytes]]] = []
    lock = threading.Lock()

    def append(worker: int) -> None:
        for batch in range(20):
            data = entries(5, 1000 * worker + 5 * batch)
            first = log_store.append_entries(data)
            with lock:
                got.append((first, data))

    threads = [threading.Thread(target=append, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(first for first, _ in got) == list(range(0, 600, 5))
    assert log_store.entry_count() == 600
    stored = log_store.read_entries(0, 600)
    for first, data in got:  # each batch landed whole, at the index it was told
        assert stored[first : first + 5] == data


# -- Redis specifics -------------------------------------------------------------------------


def test_oversize_entries_are_refused_before_any_write() -> None:
    store = RedisLogStore(fake_redis(), prefix=new_prefix())
    with pytest.raises(MalformedValueError):
        store.append_entries([b"ok", b"x" * 0x10000])
    assert store.entry_count() == 0


@pytest.mark.redis_server
def test_several_clients_append_concurrently_without_gaps_on_a_real_server() -> None:
    prefix = new_prefix()
    with real_redis(prefix):
        stores = [RedisLogStore(redis.Redis.from_url(REDIS_URL), prefix) for _ in range(4)]
        for store in stores:
            store.open(ORIGIN, KEY)
        got: list[tuple[int, list[bytes]]] = []
        lock = threading.Lock()

        def append(n: int) -> None:
            for batch in range(50):
                data = entries(1 + batch % 4, 10_000 * n + 10 * batch)
                first = stores[n].append_entries(data)
                with lock:
                    got.append((first, data))

        threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = sum(len(d) for _, d in got)
        stored = stores[0].read_entries(0, total)
        assert stores[3].entry_count() == total
        covered = sorted(i for first, data in got for i in range(first, first + len(data)))
        assert covered == list(range(total))  # unique and gap-free
        for first, data in got:
            assert stored[first : first + len(data)] == data
        for store in stores:
            store._client.close()


@pytest.mark.redis_server
def test_a_second_writer_with_a_stale_checkpoint_is_refused_on_a_real_server() -> None:
    prefix = new_prefix()
    with real_redis(prefix) as client:
        one = RedisLogStore(client, prefix)
        two = RedisLogStore(redis.Redis.from_url(REDIS_URL), prefix)
        one.open(ORIGIN, KEY)
        two.open(ORIGIN, KEY)
        seen = two.latest_checkpoint()
        _, won = integrate_all(one, EMPTY_FRONTIER, entries(3), None)
        _, runs = extend(EMPTY_FRONTIER, leaf_hashes(entries(3, 50)))
        with pytest.raises(ConflictError):
            two.integrate(seen, b"fork", runs)
        assert two.latest_checkpoint() == won
        two._client.close()


@pytest.mark.redis_server
def test_a_redis_holding_another_logs_origin_is_refused_by_open() -> None:
    prefix = new_prefix()
    with real_redis(prefix) as client:
        RedisLogStore(client, prefix).open("other.example/log", KEY)
        with pytest.raises(LogIntegrityError):
            RedisLogStore(client, prefix).open(ORIGIN, KEY)
        RedisLogStore(client, prefix + "next:").open(ORIGIN, KEY)  # another prefix, another log


def test_reads_of_a_partial_chunk_see_it_grow(log_store: LogStore) -> None:
    """A chunk read while partial (and cached by the store) still serves the hashes
    appended to it later, and a partial tile is read as it is now (issue #12 caches
    partial chunks: hashes only ever grow at the end of their level)."""
    log_store.open(ORIGIN, KEY)
    leaves = leaf_hashes([b"g%d" % i for i in range(600)])
    frontier, runs = extend(EMPTY_FRONTIER, leaves[:300])
    log_store.integrate(None, b"cp1", runs)
    assert log_store.read_nodes([(0, 299), (1, 149)])[0] == leaves[299]
    assert log_store.read_hash_tile(0, 1) == b"".join(leaves[256:300])
    with pytest.raises(LogIntegrityError):
        log_store.read_nodes([(0, 300)])
    _, more = extend(frontier, leaves[300:])
    log_store.integrate(b"cp1", b"cp2", more)
    assert log_store.read_nodes([(0, 299), (0, 300), (0, 511)]) == [
        leaves[299],
        leaves[300],
        leaves[511],
    ]
    assert log_store.read_hash_tile(0, 1) == b"".join(leaves[256:512])
    assert log_store.read_hash_tile(0, 2) == b"".join(leaves[512:600])
    tree = MerkleTree()
    for i in range(600):
        tree.append(b"g%d" % i)
    assert log_store.read_nodes([(1, 149), (1, 299)]) == tree.nodes.read([(1, 149), (1, 299)])


def test_find_leaf_finds_leaves_in_every_bucket(log_store: LogStore) -> None:
    """Leaf lookup is exact on both sides of the SQLite index's 65,536-leaf buckets and
    returns the lowest index when a leaf repeats."""
    log_store.open(ORIGIN, KEY)
    n = 65_536 + 300
    entries = [b"b%d" % i for i in range(n)]
    entries[65_540] = entries[7]  # the same leaf twice, in two buckets
    leaves = leaf_hashes(entries)
    _, runs = extend(EMPTY_FRONTIER, leaves)
    log_store.integrate(None, b"cp", runs)
    for index in (0, 65_535, 65_536, 65_537, n - 1):
        assert log_store.find_leaf(leaves[index], n) == index
        assert log_store.find_leaf(leaves[index], index) is None
    assert log_store.find_leaf(leaves[7], n) == 7
    assert log_store.find_leaf(leaves[65_540], n) == 7
