"""``identity log drop-shard NAME``: a frozen shard's live data dropped once its export
verifies; every refusal is one line, its exit code, and nothing dropped (issue #16)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from identity.log.checkpoint import NoteVerifier
from service.cli_common import EXIT_CONFLICT, EXIT_FAULTS, EXIT_NOT_FOUND, EXIT_USAGE
from service.log import log_key
from service.log_shards import build_shard_set
from service.settings import Settings
from tests.cli.helpers import ADMIN, SECRET, Identity, one_line_error
from tests.cli.test_log_shards_cli import yearly_shards


def _tables(data: Path) -> set[str]:
    with sqlite3.connect(data / "identity.sqlite3") as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE name GLOB 'log_shard_*'")
        return {row[0].split("_")[2] for row in rows}


@pytest.fixture
def exported(identity: Identity, tmp_path: Path) -> Path:
    """2026 (frozen) and 2027 written on SQLite and exported to ``tmp_path/site``."""
    yearly_shards(identity)
    site = tmp_path / "site"
    identity.ok("log", "export", "--shards", str(site))
    assert _tables(identity.data) == {"2026", "2027"}
    return site


def test_a_frozen_shard_is_dropped_once_its_export_verifies(
    identity: Identity, exported: Path
) -> None:
    out = identity.ok("log", "drop-shard", "2026", "--from", str(exported))
    assert out.strip() == (
        f"dropped log shard 2026's live data (150 entries); its export in {exported / '2026'} "
        "verifies"
    )
    assert _tables(identity.data) == {"2027"}  # 2027 untouched
    again = identity.ok("log", "drop-shard", "2026", "--from", str(exported))
    assert "has no live data (dropped already)" in again
    assert _tables(identity.data) == {"2027"}
    # the configured folder is the default
    identity.extra["IDENTITY_LOG_SHARDS_DIR"] = str(exported)
    assert "dropped already" in identity.ok("log", "drop-shard", "2026")
    # and the frozen shard is still served, from its files (no store read)
    settings = Settings(
        data_dir=identity.data,
        admin_token=ADMIN,
        master_secret=SECRET,
        log_shard_period="year",
        log_shards_dir=exported,
    )
    key = log_key(settings.master_secret_bytes(), settings.log_origin).public_key()
    shard_set = build_shard_set(settings, NoteVerifier(settings.log_origin, key))
    try:
        served = shard_set.get("2026")
        assert served.source == "files"
        assert served.reader.checkpoint().checkpoint.size == 150
    finally:
        shard_set.close()


def test_refusals_are_one_line_and_drop_nothing(
    identity: Identity, exported: Path, tmp_path: Path
) -> None:
    where = ["--from", str(exported)]
    one_line_error(
        identity("log", "drop-shard", "2027", *where),
        EXIT_CONFLICT,
        "log shard 2027 is not frozen: only a frozen shard's data can be dropped",
    )
    one_line_error(
        identity("log", "drop-shard", "1999", *where),
        EXIT_NOT_FOUND,
        "no log shard 1999 in the catalog",
    )
    one_line_error(
        identity("log", "drop-shard", "2026"),
        EXIT_USAGE,
        "no export folder: give --from DIR or set IDENTITY_LOG_SHARDS_DIR",
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(
        identity("log", "drop-shard", "2026", "--from", str(empty)),
        EXIT_NOT_FOUND,
        f"no export of log shard 2026 in {empty}",
    )
    tampered = tmp_path / "tampered"
    shutil.copytree(exported, tampered)
    bundle = tampered / "2026" / "tile" / "entries" / "000.p" / "150"
    data = bytearray(bundle.read_bytes())
    data[40] ^= 1
    bundle.write_bytes(bytes(data))
    one_line_error(
        identity("log", "drop-shard", "2026", "--from", str(tampered)),
        EXIT_FAULTS,
        f"the export of log shard 2026 in {tampered / '2026'} does not verify",
    )
    # an export of another log (its final checkpoint is not the catalog's) is refused too
    other = tmp_path / "other"
    shutil.copytree(exported, other)
    (other / "2026" / "checkpoint").write_bytes((exported / "2027" / "checkpoint").read_bytes())
    result = identity("log", "drop-shard", "2026", "--from", str(other))
    one_line_error(result, EXIT_FAULTS, "the export of log shard 2026")
    assert _tables(identity.data) == {"2026", "2027"}  # nothing dropped
