"""``log export``, ``audit`` from a folder and a URL (tile cache), backup and restore."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from identity.keys import Ed25519PrivateKey
from identity.log.checkpoint import NoteSigner
from service.cli_common import EXIT_CONFLICT, EXIT_FAULTS, EXIT_INVALID
from tests.cli.helpers import Identity, agency, one_line_error, serving, write_rows
from tests.storage.redis_backends import REDIS_URL, new_prefix, real_redis


def _vkey(url: str) -> str:
    return str(httpx.get(url + "/log/key").json()["vkey"])


def _populate(identity: Identity, rows: int = 300) -> None:
    agency(identity)
    source = write_rows(identity.data.parent / "rows.jsonl", rows)
    identity.ok("bulk", "issue", str(source), "--agency", "psb")


def test_log_export_is_audited_offline_and_grows_incrementally(
    identity: Identity, tmp_path: Path
) -> None:
    _populate(identity)
    site = tmp_path / "site" / "log"
    out = identity.ok("log", "export", str(site))
    assert "files written" in out
    assert (site / "checkpoint").read_bytes().startswith(b"identity.example/log\n")
    assert (site / "tile" / "0" / "000").stat().st_size == 256 * 32
    assert (site / "tile" / "entries" / "000").is_file()
    files = [p for p in site.rglob("*") if p.is_file()]
    assert len(files) == 6  # checkpoint, entry bundles 0 and 1.p, tiles 0/0, 0/1.p, 1/0.p
    with serving(identity) as url:
        vkey = _vkey(url)
        for file in files:  # the same bytes the service serves under /log/
            served = httpx.get(f"{url}/log/{file.relative_to(site)}")
            assert served.status_code == 200 and served.content == file.read_bytes(), file
    state = tmp_path / "state.json"
    result = identity.ok("audit", str(site), "--vkey", vkey, "--state", str(state))
    assert result.startswith("audit ok: ")
    _populate_more = write_rows(tmp_path / "more.jsonl", 320)
    identity.ok("bulk", "issue", str(_populate_more), "--agency", "psb")
    again = identity.ok("log", "export", str(site))
    assert "full tiles already there" in again and " 0 full tiles" not in again
    assert identity.ok("audit", str(site), "--vkey", vkey, "--state", str(state)).startswith(
        "audit ok"
    )
    entries = next((site / "tile" / "entries").iterdir())
    tampered = bytearray(entries.read_bytes())
    tampered[40] ^= 1
    entries.write_bytes(bytes(tampered))
    result = identity("audit", str(site), "--vkey", vkey, "--state", str(state))
    one_line_error(result, EXIT_FAULTS, "audit FAILED")


def test_audit_over_http_fetches_only_new_tiles_and_reads_the_key_url(
    identity: Identity, tmp_path: Path
) -> None:
    _populate(identity, 600)
    state = tmp_path / "state.json"
    with serving(identity) as url:
        first = identity.ok("audit", url, "--vkey", url + "/log/key", "--state", str(state))
        assert "from cache)" in first and " 0 fetched" not in first
        second = identity.ok("audit", url, "--vkey", url + "/log/key", "--state", str(state))
        assert "(0 fetched," in second, second
        vkey = _vkey(url)
        assert json.loads(state.read_text())["vkey"] == vkey
    other = NoteSigner("identity.example/log", Ed25519PrivateKey.generate()).verifier.vkey
    result = identity("audit", url, "--vkey", other, "--state", str(state))
    one_line_error(result, EXIT_FAULTS, "the key differs from the one")

    # The log rewrites an old entry: tiles already audited are not fetched again, so only
    # --full (fetch everything, as a fresh auditor would) sees it.
    with sqlite3.connect(identity.data / "identity.sqlite3") as db:
        db.execute("UPDATE log_entries SET data = CAST('rewritten' AS BLOB) WHERE idx = 5")
    with serving(identity) as url:
        assert "audit ok" in identity.ok("audit", url, "--vkey", vkey, "--state", str(state))
        result = identity("audit", url, "--vkey", vkey, "--state", str(state), "--full")
        one_line_error(result, EXIT_FAULTS, "audit FAILED")


def _counts(identity: Identity) -> tuple[int, str]:
    agencies = identity.json("agency", "list", "--json")
    assert isinstance(agencies, list)
    return len(agencies), identity.ok("agency", "show", "psb", "--json")


def test_sqlite_backup_and_restore_round_trip(identity: Identity, tmp_path: Path) -> None:
    _populate(identity)
    backup = tmp_path / "backup"
    assert "backed up sqlite store" in identity.ok("backup", str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert set(manifest["files"]) == {"records"}  # the log lives in the records file
    one_line_error(identity("backup", str(backup)), EXIT_INVALID, "not empty")

    fresh = Identity(tmp_path / "restored", {})
    fresh.data.mkdir(mode=0o700)
    out = fresh.ok("restore", str(backup))
    assert "audit ok" in out and "consistent with its signed checkpoint" in out
    assert "reconcile ok" in out
    assert _counts(fresh) == _counts(identity)
    one_line_error(fresh("restore", str(backup)), EXIT_CONFLICT, "--replace")
    assert "audit ok" in fresh.ok("restore", str(backup), "--replace")

    corrupt = tmp_path / "corrupt"
    shutil.copytree(backup, corrupt)
    log_file = corrupt / "identity.sqlite3"
    data = bytearray(log_file.read_bytes())
    data[-100] ^= 0xFF
    log_file.write_bytes(bytes(data))
    other = Identity(tmp_path / "other", {})
    other.data.mkdir()
    one_line_error(other("restore", str(corrupt)), EXIT_INVALID, "SHA-256")
    assert not (other.data / "identity.sqlite3").exists()  # nothing half-written


@pytest.mark.redis_server
def test_redis_backup_and_restore_round_trip(tmp_path: Path) -> None:
    prefix, target = new_prefix(), new_prefix()
    with real_redis(prefix) as client, real_redis(target):
        data = tmp_path / "data"
        data.mkdir()
        identity = Identity(
            data, {"IDENTITY_STORAGE_URL": REDIS_URL, "IDENTITY_REDIS_PREFIX": prefix}
        )
        _populate(identity, 100)
        backup = tmp_path / "backup"
        identity.ok("backup", str(backup))
        manifest = json.loads((backup / "manifest.json").read_text())
        assert manifest["keys"] == len(list(client.scan_iter(match=prefix + "*")))
        restored = Identity(
            data, {"IDENTITY_STORAGE_URL": REDIS_URL, "IDENTITY_REDIS_PREFIX": target}
        )
        out = restored.ok("restore", str(backup))
        assert "audit ok" in out and f"{manifest['keys']} Redis keys" in out
        assert _counts(restored) == _counts(identity)
        one_line_error(restored("restore", str(backup)), EXIT_CONFLICT, "not empty")


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("redis+cluster://127.0.0.1:1", "do not cover a Redis Cluster store"),
        ("memory://", "need a SQLite or Redis store, not memory://"),
    ],
)
def test_backup_of_a_store_it_cannot_copy_says_why(tmp_path: Path, url: str, text: str) -> None:
    cli = Identity(tmp_path / "data", {"IDENTITY_STORAGE_URL": url})
    target = tmp_path / "backup"
    for command in ("backup", "restore"):
        one_line_error(cli(command, str(target)), EXIT_INVALID, text)
    assert not target.exists()
