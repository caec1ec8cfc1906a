"""``identity log export --shards`` and ``identity audit --shards`` on a sharded log."""

from __future__ import annotations

import json
from pathlib import Path

from identity.log.checkpoint import NoteVerifier
from identity.log.shards import ShardReceipt
from service.cli_common import EXIT_FAULTS
from service.log import log_key
from service.settings import Settings
from tests.cli.helpers import ADMIN, SECRET, Identity, one_line_error
from tests.service.test_log_shards import _write_shards


def yearly_shards(identity: Identity) -> tuple[Settings, list[ShardReceipt]]:
    """Shards 2026 (frozen) and 2027 written on ``identity``'s SQLite, the CLI configured
    for them; the settings and the receipts of ``_write_shards``."""
    identity.extra.update(IDENTITY_LOG_SHARD_PERIOD="year", IDENTITY_LOG_SHARD_GRACE_S="5")
    settings = Settings(
        data_dir=identity.data,
        admin_token=ADMIN,
        master_secret=SECRET,
        log_shard_period="year",
        log_shard_grace_s=5,
    )
    return settings, _write_shards(settings)


def test_every_shard_is_exported_and_audited_offline(identity: Identity, tmp_path: Path) -> None:
    settings, receipts = yearly_shards(identity)
    site = tmp_path / "site"
    out = identity.ok("log", "export", "--shards", str(site))
    assert "exported shard 2026: 150 entries" in out and "exported 2 shards" in out
    listing = json.loads((site / "shards.json").read_text())["shards"]
    assert [(s["name"], s["frozen"]) for s in listing] == [("2026", True), ("2027", False)]
    assert (site / "2026" / "checkpoint").read_bytes().startswith(b"identity.example/log/2026\n")
    assert len(receipts) == 300
    key = log_key(settings.master_secret_bytes(), settings.log_origin).public_key()
    vkey = NoteVerifier(settings.log_origin, key).vkey
    state = tmp_path / "state.json"
    result = identity.ok("audit", str(site), "--shards", "--vkey", vkey, "--state", str(state))
    assert "audit ok: shard 2026 (identity.example/log/2026): 150 entries" in result
    assert result.rstrip().endswith("audit ok: 2 shards")
    bundle = site / "2027" / "tile" / "entries" / "000.p" / "150"
    tampered = bytearray(bundle.read_bytes())
    tampered[30] ^= 1
    bundle.write_bytes(bytes(tampered))
    failed = identity("audit", str(site), "--shards", "--vkey", vkey, "--state", str(state))
    one_line_error(failed, EXIT_FAULTS, "audit FAILED: shard 2027")
