"""The LogStore contract, run against every back end (memory, SQLite; Redis later)."""

from __future__ import annotations

import threading

import pytest

from identity.errors import ConflictError, LogIntegrityError, NotFoundError
from identity.log.store import LogStore
from identity.log.tree import EMPTY_FRONTIER, extend, leaf_hashes


def test_open_records_identity_and_refuses_another(store: LogStore) -> None:
    store.open("a.example/log", b"k" * 32)
    store.open("a.example/log", b"k" * 32)
    with pytest.raises(LogIntegrityError):
        store.open("b.example/log", b"k" * 32)
    with pytest.raises(LogIntegrityError):
        store.open("a.example/log", b"j" * 32)


def test_batches_get_contiguous_indices(store: LogStore) -> None:
    assert store.append_entries([b"a", b"b"]) == 0
    assert store.append_entries([b"c"]) == 1 + 1
    assert store.entry_count() == 3
    assert store.read_entries(0, 3) == [b"a", b"b", b"c"]
    assert store.read_entries(1, 2) == [b"b"]
    with pytest.raises(NotFoundError):
        store.read_entries(2, 4)


def test_concurrent_batches_never_overlap(store: LogStore) -> None:
    firsts: list[int] = []

    def work(n: int) -> None:
        for _ in range(20):
            firsts.append(store.append_entries([b"%d" % n] * 5))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(firsts) == list(range(0, 400, 5))
    assert store.entry_count() == 400


def test_integrate_is_compare_and_swap(store: LogStore) -> None:
    entries = [b"e%d" % i for i in range(600)]
    store.append_entries(entries)
    frontier, runs = extend(EMPTY_FRONTIER, leaf_hashes(entries[:300]))
    store.integrate(None, b"cp1", runs)
    assert store.latest_checkpoint() == b"cp1"
    _, more = extend(frontier, leaf_hashes(entries[300:]))
    with pytest.raises(ConflictError):
        store.integrate(b"stale", b"cp2", more)
    assert store.latest_checkpoint() == b"cp1"
    with pytest.raises(LogIntegrityError):  # nothing of the refused batch was written
        store.read_nodes([(0, 300)])
    store.integrate(b"cp1", b"cp2", more)
    assert store.latest_checkpoint() == b"cp2"
    assert store.read_nodes([(0, 599), (8, 1), (9, 0)])[0] == leaf_hashes([b"e599"])[0]


def test_runs_must_grow_contiguously(store: LogStore) -> None:
    _, runs = extend(EMPTY_FRONTIER, leaf_hashes([b"x", b"y"]))
    store.integrate(None, b"cp1", runs)
    with pytest.raises(LogIntegrityError):
        store.integrate(b"cp1", b"cp2", runs)  # the same hashes again
    assert store.latest_checkpoint() == b"cp1"


def test_nodes_tiles_and_leaf_lookup(store: LogStore) -> None:
    entries = [b"n%d" % i for i in range(700)]
    leaves = leaf_hashes(entries)
    _, runs = extend(EMPTY_FRONTIER, leaves)
    store.integrate(None, b"cp", runs)
    assert store.read_nodes([(0, 5), (0, 699)]) == [leaves[5], leaves[699]]
    assert store.read_hash_tile(0, 1) == b"".join(leaves[256:512])
    assert store.read_hash_tile(0, 2) == b"".join(leaves[512:700])
    assert len(store.read_hash_tile(8, 0)) == 2 * 32
    assert store.read_hash_tile(16, 0) == b""
    assert store.find_leaf(leaves[345], 700) == 345
    assert store.find_leaf(leaves[345], 345) is None
    assert store.find_leaf(b"\x00" * 32, 700) is None
    with pytest.raises(LogIntegrityError):
        store.read_nodes([(1, 350)])
