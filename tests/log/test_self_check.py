"""Self-checking storage (issue #12): a changed byte anywhere in the stored log -- entry,
leaf hash, a node at any level, a counter, the checkpoint -- is caught, and no proof or
entry built on it is ever served.

The log's SQLite file is tampered one place at a time (and restored). Each time,
:func:`identity.log.scrub.scrub` (``identity log verify``) names the fault, and the
service's read path (:class:`identity.log.reader.LogReader`) either serves proofs that an
independent check accepts -- recomputed from the entries, against the signed root -- or
refuses with :class:`LogIntegrityError`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from identity.errors import LogIntegrityError
from identity.log import proofs
from identity.log.checkpoint import NoteSigner
from identity.log.hashing import leaf_hash
from identity.log.reader import LogReader
from identity.log.scrub import scrub
from identity.log.sequencer import TransparencyLog
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis_log import RedisLogStore
from identity.storage.sqlite_log import SQLiteLogStore
from tests.storage.redis_backends import fake_redis, new_prefix

SIZE = 300  # levels 0..8 stored; level 8 has one node, levels 1..7 are in no tile


def _build(store: object, signer: NoteSigner) -> None:
    async def run() -> None:
        log = TransparencyLog(store, signer)  # type: ignore[arg-type]
        await log.start()
        await asyncio.gather(*(log.append(b"entry-%d" % i) for i in range(SIZE)))
        await log.integrate()
        await log.stop()

    asyncio.run(run())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from identity.keys import Ed25519PrivateKey
    from tests.log.conftest import ORIGIN

    path = tmp_path_factory.mktemp("log") / "log.sqlite3"
    store = SQLiteLogStore(path)
    _build(store, NoteSigner(ORIGIN, Ed25519PrivateKey(bytes(range(32)))))
    store.close()
    return path


Tamper = Callable[[sqlite3.Connection], None]


def _flip_node(level: int, index: int, byte: int) -> Tamper:
    def apply(db: sqlite3.Connection) -> None:
        chunk_id = level << 48 | index >> 8
        (blob,) = db.execute("SELECT hashes FROM log_tiles WHERE id = ?", (chunk_id,)).fetchone()
        data = bytearray(blob)
        data[(index % 256) * 32 + byte] ^= 0x01
        db.execute("UPDATE log_tiles SET hashes = ? WHERE id = ?", (bytes(data), chunk_id))

    return apply


def _flip_entry(index: int, byte: int) -> Tamper:
    def apply(db: sqlite3.Connection) -> None:
        (data,) = db.execute("SELECT data FROM log_entries WHERE idx = ?", (index,)).fetchone()
        changed = bytearray(data)
        changed[byte % len(changed)] ^= 0x01
        db.execute("UPDATE log_entries SET data = ? WHERE idx = ?", (bytes(changed), index))

    return apply


def _flip_checkpoint(byte: int) -> Tamper:
    def apply(db: sqlite3.Connection) -> None:
        (note,) = db.execute("SELECT value FROM log_meta WHERE key = 'checkpoint'").fetchone()
        changed = bytearray(note)
        changed[byte % len(changed)] ^= 0x01
        db.execute("UPDATE log_meta SET value = ? WHERE key = 'checkpoint'", (bytes(changed),))

    return apply


def _truncate(level: int) -> Tamper:  # SQLite's "counter" is the stored chunk's length
    def apply(db: sqlite3.Connection) -> None:
        chunk_id = level << 48 | ((SIZE >> level) - 1) >> 8
        db.execute(
            "UPDATE log_tiles SET hashes = substr(hashes, 1, length(hashes) - 32) WHERE id = ?",
            (chunk_id,),
        )

    return apply


def _tampers() -> list[tuple[str, Tamper]]:
    out: list[tuple[str, Tamper]] = []
    for level in range(9):  # every node of every level (levels 0 and 8: a sample)
        count = SIZE >> level
        sample = sorted({i for i in (0, 7, count // 2, count - 1) if i < count})
        indices = range(count) if 1 <= level <= 7 else sample
        for index in indices:
            out.append((f"node {level}/{index}", _flip_node(level, index, (index * 7) % 32)))
    for index in (0, 123, SIZE - 1):
        out.append((f"entry {index}", _flip_entry(index, index)))
    for byte in (0, 20, 60, 100):
        out.append((f"checkpoint byte {byte}", _flip_checkpoint(byte)))
    out += [(f"truncated level {lvl}", _truncate(lvl)) for lvl in (0, 3, 8)]
    return out


def _reads_safely(reader: LogReader) -> bool:
    """Every proof and entry the reader serves checks out independently; return whether
    it refused any (it must refuse rather than serve a bad one)."""
    refused = False
    try:
        root = reader.checkpoint().checkpoint.root
    except Exception:
        return True
    for index in range(SIZE):
        try:
            proof = reader.inclusion_proof(index)
            entry = reader.entry(index)
        except LogIntegrityError:
            refused = True
            continue
        assert proof.leaf_hash == leaf_hash(entry) == leaf_hash(b"entry-%d" % index)
        proofs.verify_inclusion(index, SIZE, proof.leaf_hash, proof.path, root)
    for first in (1, 37, 256, SIZE):
        try:
            path = reader.consistency_proof(first)
            old = reader.root(first)
        except LogIntegrityError:
            refused = True
            continue
        proofs.verify_consistency(first, SIZE, old, root, path)
    return refused


@pytest.mark.parametrize(("name", "tamper"), _tampers(), ids=[n for n, _ in _tampers()])
def test_every_tamper_is_caught_and_nothing_bad_is_served(
    built: Path, tmp_path: Path, signer: NoteSigner, name: str, tamper: Tamper
) -> None:
    path = tmp_path / "log.sqlite3"
    path.write_bytes(built.read_bytes())
    with sqlite3.connect(path) as db:
        tamper(db)
    store = SQLiteLogStore(path)
    report = scrub(store, signer.verifier, signer.name)
    assert report.faults, f"scrub missed {name}"
    _reads_safely(LogReader(store, signer.verifier, signer.name))
    store.close()


def test_an_untouched_store_scrubs_clean_and_serves_everything(
    built: Path, signer: NoteSigner
) -> None:
    store = SQLiteLogStore(built)
    report = scrub(store, signer.verifier, signer.name)
    assert report.ok and report.tree_size == SIZE
    assert report.hashes_checked == sum(SIZE >> lvl for lvl in range(9))
    assert not _reads_safely(LogReader(store, signer.verifier, signer.name))
    store.close()


def test_a_flipped_interior_node_is_refused_and_reported_by_health(
    tmp_path: Path, signer: NoteSigner
) -> None:
    """The fault found from outside: a byte of a level 1-7 node (in no tile) made valid
    credentials fail; now the proof is refused and the log's health names the damage."""
    store = MemoryLogStore()

    async def run() -> None:
        log = TransparencyLog(store, signer)
        await log.start()
        await asyncio.gather(*(log.append(b"e%d" % i) for i in range(SIZE)))
        await log.integrate()
        store.nodes.levels[3][5 * 32] ^= 0x01
        with pytest.raises(LogIntegrityError, match="damaged"):
            log.reader.inclusion_proof(32)  # node 3/5 is on its path (sibling of 3/4)
        health = log.health()
        assert health.state == "corrupted" and "damaged" in (health.reason or "")
        await log.stop()

    asyncio.run(run())


def test_a_bumped_redis_counter_is_named_by_scrub(signer: NoteSigner) -> None:
    client, prefix = fake_redis(lua=True), new_prefix()
    store = RedisLogStore(client, prefix)
    _build(store, signer)
    assert scrub(store, signer.verifier, signer.name).ok
    client.hincrby(prefix + "log:levels", "0", 1)
    report = scrub(store, signer.verifier, signer.name)
    assert report.faults == [f"level 0 counter: says {SIZE + 1} hashes, the tree has {SIZE}"]


def test_the_fast_inclusion_path_equals_the_plan_resolved(built: Path, signer: NoteSigner) -> None:
    """The read path's direct addressing (and its remembered right-edge folds) gives
    exactly ``proofs.resolve(proofs.inclusion_plan(i, n))``, for every leaf of several
    tree sizes."""
    store = SQLiteLogStore(built)
    reader = LogReader(store, signer.verifier, signer.name)
    for size in (1, 2, 3, 7, 8, 100, 255, 256, 257, SIZE):
        for index in range(size):
            slow = proofs.resolve(proofs.inclusion_plan(index, size), store.read_nodes)
            path, leaf = reader._path(index, size)
            assert list(path) == slow and leaf == store.read_nodes([(0, index)])[0]
    store.close()


def test_a_fold_is_remembered_only_once_its_proof_verified(
    tmp_path: Path, signer: NoteSigner
) -> None:
    """A right-edge fold built on a damaged node is refused and not kept: once the store
    is repaired, the same proof is served (and checks out independently)."""
    store = MemoryLogStore()
    size = 300  # leaf 0's path ends with the fold of [256, 300)

    async def run() -> None:
        log = TransparencyLog(store, signer)
        await log.start()
        await asyncio.gather(*(log.append(b"f%d" % i) for i in range(size)))
        await log.integrate()
        await log.stop()

    asyncio.run(run())
    reader = LogReader(store, signer.verifier, signer.name)
    store.nodes.levels[5][8 * 32] ^= 0x01  # node 5/8 = [256, 288): inside the fold
    with pytest.raises(LogIntegrityError):
        reader.inclusion_proof(0, size)
    store.nodes.levels[5][8 * 32] ^= 0x01
    proof = reader.inclusion_proof(0, size)
    root = reader.root(size)
    proofs.verify_inclusion(0, size, leaf_hash(b"f0"), proof.path, root)


def test_a_leaf_index_of_an_earlier_release_is_migrated(tmp_path: Path) -> None:
    """Files written before issue #12's slot index (``log_leaf_index(prefix, idx)``) are
    migrated when opened: every leaf is still found, and the old table is gone."""
    from identity.log.tree import EMPTY_FRONTIER, extend, leaf_hashes

    path = tmp_path / "old.sqlite3"
    entries = [b"m%d" % i for i in range(500)]
    leaves = leaf_hashes(entries)
    store = SQLiteLogStore(path, index_leaves=False)
    store.append_entries(entries)
    _, runs = extend(EMPTY_FRONTIER, leaves)
    store.integrate(None, b"cp", runs)
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE log_leaf_index(prefix INTEGER, idx INTEGER)")
        db.executemany(
            "INSERT INTO log_leaf_index VALUES (?, ?)",
            [(int.from_bytes(h[:4], "big", signed=True), i) for i, h in enumerate(leaves)],
        )
    store = SQLiteLogStore(path)
    assert [store.find_leaf(h, 500) for h in leaves] == list(range(500))
    store.close()
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "log_leaf_index" not in tables and "log_leaf_slots" in tables


def _memory_log(signer: NoteSigner, size: int) -> MemoryLogStore:
    store = MemoryLogStore()

    async def run() -> None:
        log = TransparencyLog(store, signer)
        await log.start()
        await asyncio.gather(*(log.append(b"a%d" % i) for i in range(size)))
        await log.integrate()
        await log.stop()

    asyncio.run(run())
    return store


def test_anchored_proofs_equal_the_full_ones_and_refuse_damage(signer: NoteSigner) -> None:
    """Proofs checked only up to a verified anchor subtree (``ANCHOR_LEVEL``) are the
    RFC 9162 paths; a damaged node below the anchor is refused (the full check runs and
    names it); a damaged node above it is never served (the verified path is)."""
    from identity.log.reader import ANCHOR_LEVEL

    size = 3 * (1 << ANCHOR_LEVEL) + 5  # anchors 0, 1 and 2 complete and not the last
    store = _memory_log(signer, size)
    reader = LogReader(store, signer.verifier, signer.name)
    root = reader.root(size)
    for index in range(0, size, 7):
        first = reader.inclusion_proof(index, size)
        again = reader.inclusion_proof(index, size)
        slow = proofs.resolve(proofs.inclusion_plan(index, size), store.read_nodes)
        assert list(first.path) == list(again.path) == slow
        proofs.verify_inclusion(index, size, leaf_hash(b"a%d" % index), again.path, root)
    assert reader._anchored_proof(7, size) is not None  # the fast path serves it now
    assert reader._anchored_proof(size - 1, size) is None  # the last anchor: full check
    store.nodes.levels[3][(7 >> 3 ^ 1) * 32] ^= 0x01  # a sibling on leaf 7's lower path
    with pytest.raises(LogIntegrityError, match="damaged"):
        reader.inclusion_proof(7, size)
    store.nodes.levels[3][(7 >> 3 ^ 1) * 32] ^= 0x01
    store.nodes.levels[ANCHOR_LEVEL][1 * 32] ^= 0x01  # anchor 1's hash: above anchor 0
    try:
        proof = reader.inclusion_proof(14, size)
    except LogIntegrityError:
        pass
    else:
        proofs.verify_inclusion(14, size, leaf_hash(b"a14"), proof.path, root)
