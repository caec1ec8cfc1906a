"""Owner-only data files (issue #12): whatever the umask, the data directory is 0700 and
every database file (with its -wal and -shm) 0600; looser ones found at start are
tightened, with one clear log line."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import NOW, issue, make_issuer


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o000)  # the worst case: everything world-writable by default
    yield
    os.umask(previous)


def _run(settings: Settings) -> dict[str, int]:
    """Serve and write; return the data files' modes while running (-wal and -shm exist
    only while a connection is open)."""
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        agency = make_issuer(client)
        assert issue(client, agency, waitForCheckpoint=True).status_code == 201
        return {p.name: _mode(p) for p in _files(Path(settings.data_dir))}


def _files(data: Path) -> list[Path]:
    return sorted(p for p in data.iterdir() if ".sqlite3" in p.name)


def test_new_data_files_are_owner_only_whatever_the_umask(
    settings: Settings, open_umask: None
) -> None:
    modes = _run(settings)
    data = Path(settings.data_dir)
    assert _mode(data) == 0o700
    assert {"identity.sqlite3", "identity.sqlite3-wal", "identity.sqlite3-shm"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)
    assert all(_mode(p) & 0o077 == 0 for p in data.iterdir())  # the admin token file too


def test_loose_files_found_at_start_are_tightened_with_one_line(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    data = Path(settings.data_dir)
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "identity.sqlite3"
    with sqlite3.connect(database) as db:  # as the previous release left them
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t(x)")
    for path in [database, *data.glob("identity.sqlite3-*")]:
        path.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="identity.storage")
    modes = _run(settings)
    assert _mode(data) == 0o700
    assert modes == dict.fromkeys(modes, 0o600)
    lines = [r.getMessage() for r in caplog.records if r.name == "identity.storage"]
    assert len(lines) == 1, lines
    assert "tightened to owner-only" in lines[0]
    assert f"{data} was 0755" in lines[0] and f"{database} was 0644" in lines[0]
