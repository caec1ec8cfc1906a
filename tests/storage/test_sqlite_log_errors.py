"""The SQLite log store reports SQLite's failures as domain errors, never raw ``sqlite3``.

Each failure is :class:`UnavailableError` (503 ``unavailable`` in the service; the
integrator retries it instead of stopping for good), and a failed write leaves the store
as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from identity.errors import UnavailableError
from identity.log.tree import EMPTY_FRONTIER, extend, leaf_hashes
from identity.storage.sqlite_log import SQLiteLogStore

ORIGIN, KEY = "errors.example/log", b"k" * 32


def _store(path: Path, **options: object) -> SQLiteLogStore:
    store = SQLiteLogStore(path, synchronous="OFF", **options)  # type: ignore[arg-type]
    store.open(ORIGIN, KEY)
    batch = [b"entry %d" % i for i in range(300)]
    store.append_entries(batch)
    _, runs = extend(EMPTY_FRONTIER, leaf_hashes(batch))
    store.integrate(None, b"cp 300", runs)
    return store


def _contents(path: Path) -> list[object]:
    db = sqlite3.connect(path)
    try:
        return [
            db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("log_entries", "log_tiles", "log_leaf_slots", "log_meta")
        ]
    finally:
        db.close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    path.write_bytes(b"this is not an SQLite database file" * 200)
    with pytest.raises(UnavailableError, match="cannot open its file"):
        SQLiteLogStore(path)


def test_a_directory_where_the_file_should_be(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError, match="cannot open its file"):
        SQLiteLogStore(tmp_path)


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.append_entries([b"x", b"y"]),
        lambda s: s.integrate(b"cp 300", b"cp 301", []),
        lambda s: s.open(ORIGIN, KEY),
    ],
    ids=["append_entries", "integrate", "open"],
)
def test_a_busy_file_refuses_writes_with_nothing_written(
    tmp_path: Path, write: Callable[[SQLiteLogStore], object]
) -> None:
    """Another connection holds the write lock past the busy timeout."""
    path = tmp_path / "log.sqlite3"
    store = _store(path, busy_timeout_ms=50)
    before = _contents(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(UnavailableError, match="busy"):
            write(store)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _contents(path) == before
    assert store.append_entries([b"after"]) == 300  # the connection is usable again
    store.close()


def test_a_statement_failing_inside_integrate_rolls_it_back(tmp_path: Path) -> None:
    """The tiles table is gone: the chunk read fails inside the transaction."""
    path = tmp_path / "log.sqlite3"
    store = _store(path)
    store.append_entries([b"e300"])
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("ALTER TABLE log_tiles RENAME TO log_tiles_away")
    db.close()
    _, runs = extend(EMPTY_FRONTIER, leaf_hashes([b"e300"]))
    with pytest.raises(UnavailableError, match="cannot write"):
        store.integrate(b"cp 300", b"cp 301", [(0, 300, runs[0][2])])
    assert store.latest_checkpoint() == b"cp 300"  # rolled back
    store.close()


@pytest.mark.parametrize(
    ("read", "table"),
    [
        (lambda s: s.entry_count(), "log_entries"),
        (lambda s: s.read_entries(0, 3), "log_entries"),
        (lambda s: s.read_nodes([(3, 0)]), "log_tiles"),
        (lambda s: s.read_hash_tile(2, 0), "log_tiles"),
        (lambda s: s.find_leaf(b"\x01" * 32, 300), "log_leaf_slots"),
        (lambda s: s.stored_counts(), "log_tiles"),
        (lambda s: s.latest_checkpoint(), "log_meta"),
    ],
    ids=[
        "entry_count",
        "read_entries",
        "read_nodes",
        "read_hash_tile",
        "find_leaf",
        "stored_counts",
        "latest_checkpoint",
    ],
)
def test_a_failing_read_is_unavailable(
    tmp_path: Path, read: Callable[[SQLiteLogStore], object], table: str
) -> None:
    """The table the read needs is gone (a damaged or foreign file)."""
    path = tmp_path / "log.sqlite3"
    store = SQLiteLogStore(path, synchronous="OFF", cache_chunks=0)
    store.open(ORIGIN, KEY)
    store.append_entries([b"a", b"b", b"c"])
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"ALTER TABLE {table} RENAME TO gone")
    db.close()
    with pytest.raises(UnavailableError, match="cannot read"):
        read(store)
    store.close()


def test_a_closed_store_is_unavailable(tmp_path: Path) -> None:
    store = _store(tmp_path / "log.sqlite3")
    store.close()
    with pytest.raises(UnavailableError):
        store.entry_count()
    with pytest.raises(UnavailableError):
        store.append_entries([b"x"])
