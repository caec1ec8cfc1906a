"""The SQLite log store's fast leaf-slot rows write the same bytes as the literal form."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.log.tree import EMPTY_FRONTIER, extend, leaf_hashes
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
            for table in ("log_entries", "log_tiles", "log_leaf_slots", "log_meta")
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


def test_a_slot_row_stored_as_text_by_an_earlier_release_is_found(tmp_path: Path) -> None:
    """SQLite's ``||`` typed grown slot rows TEXT (bytes kept): they are read as bytes."""
    path = tmp_path / "log.sqlite3"
    store = SQLiteLogStore(path, synchronous="OFF")
    store.open("o", b"k" * 32)
    batch = [b"entry %d" % i for i in range(600)]
    store.append_entries(batch)
    _, runs = extend(EMPTY_FRONTIER, leaf_hashes(batch))
    store.integrate(None, b"cp", runs)
    store.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE log_leaf_slots SET packed = CAST(packed AS TEXT)")
    db.commit()
    assert db.execute("SELECT DISTINCT typeof(packed) FROM log_leaf_slots").fetchall() == [
        ("text",)
    ]
    db.close()
    store = SQLiteLogStore(path)
    for index in (0, 299, 599):
        assert store.find_leaf(leaf_hashes([batch[index]])[0], 600) == index
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
