"""The SQLite log store's fast leaf-slot rows write the same bytes as the literal form."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.log.tree import EMPTY_FRONTIER, Frontier, extend, leaf_hashes
from identity.storage import sqlite_log
from identity.storage.sqlite_log import (
    LEAF_BUCKET,
    SQLiteLogStore,
    leaf_slot_rows,
    leaf_slot_rows_one_by_one,
)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([0, 1, LEAF_BUCKET - 3, LEAF_BUCKET, 5 * LEAF_BUCKET - 1, 123_456_789]),
    st.integers(0, 700),
    st.binary(min_size=32, max_size=32),
)
def test_rows_equal_the_one_by_one_rows(start: int, count: int, seed: bytes) -> None:
    hashes = b"".join(leaf_hashes([seed + b"%d" % i for i in range(count)]))
    assert sorted(leaf_slot_rows(start, hashes)) == sorted(leaf_slot_rows_one_by_one(start, hashes))


def test_a_batch_across_a_bucket_boundary() -> None:
    hashes = b"".join(leaf_hashes([b"%d" % i for i in range(LEAF_BUCKET + 10)]))
    start = LEAF_BUCKET - 5
    rows = leaf_slot_rows(start, hashes)
    assert sorted(rows) == sorted(leaf_slot_rows_one_by_one(start, hashes))
    assert {key >> 8 for key, _ in rows} == {0, 1, 2}


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("log_entries", "log_tiles", "log_leaf_runs", "log_meta")
        }
    finally:
        db.close()


def test_stored_bytes_equal_with_the_literal_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every table of a store integrated with the fast rows is byte-equal to one
    integrated with the literal rows, batches crossing chunk and bucket boundaries."""
    cuts = [1, 255, 300, LEAF_BUCKET - 600, 1_000, 7]
    paths = []
    for name, rows in (("fast", leaf_slot_rows), ("slow", leaf_slot_rows_one_by_one)):
        monkeypatch.setattr(sqlite_log, "leaf_slot_rows", rows)
        path = tmp_path / f"{name}.sqlite3"
        store = SQLiteLogStore(path, synchronous="OFF")
        store.open("o", b"k" * 32)
        frontier, previous, at = EMPTY_FRONTIER, None, 0
        for cut in cuts:
            batch = [b"entry %d" % i for i in range(at, at + cut)]
            store.append_entries(batch)
            frontier, runs = extend(frontier, leaf_hashes(batch))
            note = b"cp %d" % frontier.size
            store.integrate(previous, note, runs)
            previous, at = note, at + cut
        assert store.find_leaf(leaf_hashes([b"entry 65000"])[0], at) == 65000
        store.close()
        paths.append(path)
    assert _tables(paths[0]) == _tables(paths[1])


def _legacy_file(path: Path, entries: list[bytes], cuts: list[int]) -> None:
    """A file in the previous release's layout: ``log_leaf_slots``, one row per
    ``bucket << 8 | slot``, grown by ``||`` over several integrations (typed TEXT)."""
    store = SQLiteLogStore(path, synchronous="OFF", index_leaves=False)
    store.open("o", b"k" * 32)
    store.append_entries(entries)
    _, runs = extend(EMPTY_FRONTIER, leaf_hashes(entries))
    store.integrate(None, b"cp", runs)
    store.close()
    hashes = b"".join(leaf_hashes(entries))
    db = sqlite3.connect(path)
    db.execute("DROP TABLE log_leaf_runs")
    db.execute("CREATE TABLE log_leaf_slots(id INTEGER PRIMARY KEY, packed BLOB NOT NULL)")
    at = 0
    for cut in cuts:
        db.executemany(
            "INSERT INTO log_leaf_slots(id, packed) VALUES (?, ?) "
            "ON CONFLICT(id) DO UPDATE SET packed = packed || excluded.packed",
            leaf_slot_rows(at, hashes[at * 32 : (at + cut) * 32]),
        )
        at += cut
    db.commit()
    assert ("text",) in db.execute("SELECT DISTINCT typeof(packed) FROM log_leaf_slots")
    db.close()


def test_a_file_of_the_previous_layout_is_migrated_when_opened(tmp_path: Path) -> None:
    """``log_leaf_slots`` rows (TEXT-typed ones too) move to ``log_leaf_runs`` with their
    bytes unchanged; every leaf is found; the old table is gone; appends go on."""
    path = tmp_path / "log.sqlite3"
    entries = [b"entry %d" % i for i in range(LEAF_BUCKET + 700)]
    _legacy_file(path, entries, [600, LEAF_BUCKET - 600, 700])
    store = SQLiteLogStore(path)
    for index in (0, 299, 599, 600, LEAF_BUCKET - 1, LEAF_BUCKET, LEAF_BUCKET + 699):
        assert store.find_leaf(leaf_hashes([entries[index]])[0], len(entries)) == index
    more = [b"entry %d" % i for i in range(len(entries), len(entries) + 300)]
    store.append_entries(more)
    frontier = Frontier(len(entries), tuple(store.read_nodes(Frontier.addresses(len(entries)))))
    _, runs = extend(frontier, leaf_hashes(more))
    store.integrate(b"cp", b"cp2", runs)
    assert store.find_leaf(leaf_hashes([more[-1]])[0], len(entries) + 300) == len(entries) + 299
    store.close()
    db = sqlite3.connect(path)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    rows = db.execute("SELECT id, packed, typeof(packed) FROM log_leaf_runs ORDER BY id").fetchall()
    db.close()
    assert "log_leaf_slots" not in tables
    assert {kind for _, _, kind in rows} == {"blob"}
    hashes = b"".join(leaf_hashes(entries + more))
    expected = sqlite_log.merged_bucket_rows(sorted(sqlite_log.leaf_run_rows(0, hashes)))
    assert _by_slot([(k, bytes(p)) for k, p, _ in rows]) == _by_slot(expected)


def _by_slot(rows: list[tuple[int, bytes]]) -> dict[int, bytes]:
    """Each slot's records, its rows concatenated in id order."""
    out: dict[int, bytes] = {}
    for key, packed in sorted(rows):
        out[key >> 16] = out.get(key >> 16, b"") + packed
    return out


def test_leaf_runs_hold_the_one_by_one_records_and_complete_buckets_merge(
    tmp_path: Path,
) -> None:
    """After integrations cut anyhow, every slot's rows hold exactly the literal form's
    records for that slot (:func:`leaf_slot_rows_one_by_one` over all leaves), a complete
    bucket holds one row per slot, and every leaf is found by its hash."""
    path = tmp_path / "log.sqlite3"
    store = SQLiteLogStore(path, synchronous="OFF")
    store.open("o", b"k" * 32)
    cuts = [1, 255, 4_096, LEAF_BUCKET - 4_400, 47, 3, LEAF_BUCKET + 10, 500]
    frontier, previous, at, entries = EMPTY_FRONTIER, None, 0, []
    for cut in cuts:
        batch = [b"leaf %d" % i for i in range(at, at + cut)]
        store.append_entries(batch)
        frontier, runs = extend(frontier, leaf_hashes(batch))
        note = b"cp %d" % frontier.size
        store.integrate(previous, note, runs)
        previous, at, entries = note, at + cut, entries + batch
    hashes = b"".join(leaf_hashes(entries))
    db = sqlite3.connect(path)
    rows = [(k, bytes(p)) for k, p in db.execute("SELECT id, packed FROM log_leaf_runs")]
    db.close()
    literal = {key: packed for key, packed in leaf_slot_rows_one_by_one(0, hashes)}
    assert _by_slot(rows) == literal
    complete = at >> 16
    per_slot: dict[int, int] = {}
    for key, _ in rows:
        per_slot[key >> 16] = per_slot.get(key >> 16, 0) + 1
    assert all(n == 1 for slot, n in per_slot.items() if slot >> 8 < complete)
    assert any(n > 1 for slot, n in per_slot.items() if slot >> 8 == complete)
    for index in range(0, at, 997):
        assert store.find_leaf(leaf_hashes([entries[index]])[0], at) == index
    assert store.find_leaf(b"\xff" * 32, at) is None
    store.close()


def _entries_rows(admit: object, first: int, entries: list[bytes]) -> list[tuple[object, ...]]:
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(sqlite_log.UNSHARDED.schema)
        admit(db, first, entries)  # type: ignore[operator]
        return db.execute("SELECT idx, data, typeof(data) FROM log_entries ORDER BY idx").fetchall()
    finally:
        db.close()


@settings(max_examples=120, deadline=None)
@given(
    st.integers(0, 1 << 40),
    st.lists(
        st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"\x00", b"\x00" * 65535])),
        max_size=40,
    ),
)
def test_packed_entries_insert_equals_one_row_each(first: int, entries: list[bytes]) -> None:
    """One packed statement stores every entry byte-exact (empty ones, NULs, the 65535-byte
    limit), BLOB-typed, at the same indices as one bound row per entry."""
    fast = _entries_rows(sqlite_log.admit_entries, first, entries)
    assert fast == _entries_rows(sqlite_log.admit_entries_one_by_one, first, entries)
    assert [bytes(row[1]) for row in fast] == entries  # type: ignore[arg-type]
