"""Every SQLite store write is one transaction: any sqlite3 failure inside it is
UnavailableError, nothing of it is kept, and the connection stays usable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from identity.errors import UnavailableError
from identity.storage.sqlite_base import write_transaction


def test_a_failure_inside_a_write_is_unavailable_and_rolled_back(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)
    db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    with pytest.raises(UnavailableError), write_transaction(db):
        db.execute("INSERT INTO t VALUES (1)")
        db.execute("INSERT INTO nowhere VALUES (2)")  # no such table
    assert not db.in_transaction
    assert db.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    with write_transaction(db):
        db.execute("INSERT INTO t VALUES (3)")
    assert db.execute("SELECT x FROM t").fetchall() == [(3,)]


def test_a_failed_commit_is_unavailable_and_rolled_back(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(UnavailableError), write_transaction(db):
        db.execute("INSERT INTO c VALUES (42)")  # checked only at COMMIT
    assert not db.in_transaction
    assert db.execute("SELECT COUNT(*) FROM c").fetchone() == (0,)


def test_errors_of_the_callers_own_kind_pass_through(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)
    db.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(KeyError), write_transaction(db):
        db.execute("INSERT INTO t VALUES (1)")
        raise KeyError("a domain decision")
    assert db.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
