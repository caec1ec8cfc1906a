"""The log's shards over HTTP and from the CLI (service/routers/log_shards.py,
service/log_shards.py, service/audit_shards.py): the shard list, each shard's checkpoint,
tiles and proofs under its own prefix, a frozen shard served from its exported files
with its store gone, the auditor following every shard, and unknown shards refused."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import sqlite3
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from identity.errors import LogIntegrityError
from identity.log.checkpoint import NoteVerifier, open_checkpoint
from identity.log.entries import LogEntry
from identity.log.hashing import leaf_hash
from identity.log.proofs import verify_inclusion
from identity.log.shards import ShardReceipt
from identity.storage.sqlite_log import shard_tables
from service.app import create_app
from service.audit_shards import audit_shards, export_shards
from service.log import log_key
from service.log_shards import build_shard_set, open_shard_backend, open_sharded_log
from service.settings import Settings
from tests.log.shard_fixtures import BOUNDARY, Clock
from tests.service.conftest import ADMIN

PROBLEM = "application/problem+json"
UNKNOWN = "https://identity-service.example/problems/unknown-log-shard"


def _entry(n: int, at: datetime) -> bytes:
    fields = {
        "credential_digest": "sha256:" + f"{n:064x}",
        "issuer": "did:key:z6MkTest",
        "type": "TestCredential",
    }
    return LogEntry("credential.issued", at.replace(microsecond=0), fields).to_bytes()


def _write_shards(settings: Settings) -> list[ShardReceipt]:
    """300 entries across the 2026/2027 boundary, 2026 frozen, as the service's log."""

    async def run() -> list[ShardReceipt]:
        clock = Clock(BOUNDARY - timedelta(seconds=3))
        backend = open_shard_backend(settings)
        log = open_sharded_log(settings, settings.master_secret_bytes(), backend, clock)
        await log.start()
        receipts = []
        try:
            for wave in range(6):
                batch = [log.append(_entry(wave * 50 + i, clock())) for i in range(50)]
                receipts += await asyncio.gather(*batch)
                clock.advance(1)
            clock.advance(settings.log_shard_grace_s)
            assert await log.roll() == ["2026"]
            for receipt in receipts:
                await log.wait_for_checkpoint(receipt)
        finally:
            await log.stop()
            backend.close()
        return receipts

    return asyncio.run(run())


@pytest.fixture
def shard_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        admin_token=ADMIN,
        master_secret="ab" * 32,
        log_shard_period="year",
        log_shard_grace_s=5,
        log_shards_dir=tmp_path / "exported",
    )


@pytest.fixture
def receipts(shard_settings: Settings) -> list[ShardReceipt]:
    return _write_shards(shard_settings)


@pytest.fixture
def client(shard_settings: Settings, receipts: list[ShardReceipt]) -> Iterator[TestClient]:
    with TestClient(create_app(shard_settings), raise_server_exceptions=False) as c:
        yield c


def _verifier(settings: Settings) -> NoteVerifier:
    key = log_key(settings.master_secret_bytes(), settings.log_origin).public_key()
    return NoteVerifier(settings.log_origin, key)


def _export(settings: Settings) -> None:
    shard_set = build_shard_set(settings, _verifier(settings))
    try:
        export_shards(shard_set, settings.log_shards_dir or Path())
    finally:
        shard_set.close()


def _proved(client: TestClient, receipt: ShardReceipt) -> None:
    """The receipt's entry and its inclusion proof, from the shard's own routes."""
    prefix = f"/log/{receipt.shard}"
    note = client.get(prefix + "/checkpoint")
    assert note.status_code == 200
    verifier = NoteVerifier(receipt.origin, _verifier_of(client).public_key)
    signed = open_checkpoint(note.content, verifier, receipt.origin)
    got = client.get(f"{prefix}/entries/{receipt.index}").json()
    data = base64.b64decode(got["entry"])
    proof = client.get(f"{prefix}/proofs/inclusion", params={"index": receipt.index}).json()
    path = [bytes.fromhex(h) for h in proof["path"]]
    size = signed.checkpoint.size
    verify_inclusion(receipt.index, size, leaf_hash(data), path, signed.checkpoint.root)


def _verifier_of(client: TestClient) -> NoteVerifier:
    vkey = client.get("/log/key").json()["vkey"]
    return NoteVerifier.from_vkey(vkey)


def test_the_shard_list_names_every_shard(client: TestClient, shard_settings: Settings) -> None:
    response = client.get("/log/shards")
    assert response.status_code == 200
    shards: list[dict[str, Any]] = response.json()["shards"]
    assert [(s["name"], s["frozen"], s["treeSize"]) for s in shards][:1] == [("2026", True, 150)]
    assert shards[1]["name"] == "2027" and not shards[1]["frozen"]
    assert sum(s["treeSize"] for s in shards) == 300
    for shard in shards:
        assert shard["origin"] == f"{shard_settings.log_origin}/{shard['name']}"
        assert shard["prefix"] == f"/log/{shard['name']}/"
        assert NoteVerifier.from_vkey(shard["vkey"]).name == shard["origin"]
    # the unsharded log's routes keep their meaning beside the shards'
    assert client.get("/log/checkpoint").status_code == 200


def test_each_shard_serves_its_checkpoint_tiles_and_proofs(
    client: TestClient, receipts: list[ShardReceipt]
) -> None:
    assert {r.shard for r in receipts} == {"2026", "2027"}
    for receipt in receipts[::37]:
        _proved(client, receipt)
    tile = client.get("/log/2026/tile/entries/000.p/150")
    assert tile.status_code == 200 and tile.headers["cache-control"].startswith("public")


@pytest.mark.parametrize("name", ["1999", "abc", "2026.0", "2026-13x", "0" * 12])
def test_an_unknown_shard_is_a_404_problem(client: TestClient, name: str) -> None:
    before = client.get("/log/shards").json()
    for path in ("checkpoint", "tile/0/000", "entries/0", "proofs/inclusion?index=0"):
        response = client.get(f"/log/{name}/{path}")
        assert response.status_code == 404, (name, path, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == UNKNOWN
    assert client.get("/log/shards").json() == before  # nothing changed


def test_a_frozen_shard_is_served_from_its_files_with_the_store_gone(
    shard_settings: Settings, receipts: list[ShardReceipt]
) -> None:
    _export(shard_settings)
    backend = open_shard_backend(shard_settings)
    backend.drop("2026")  # the frozen shard's store is gone (its tables in the records' file)
    backend.close()
    with TestClient(create_app(shard_settings), raise_server_exceptions=False) as client:
        listed = {s["name"]: s for s in client.get("/log/shards").json()["shards"]}
        assert listed["2026"]["servedFrom"] == "files"
        assert listed["2027"]["servedFrom"] == "store"
        for receipt in receipts:
            if receipt.shard == "2026":
                _proved(client, receipt)
    assert not _shard_rows(shard_settings, "2026")  # nothing re-created its data


def _shard_rows(settings: Settings, name: str) -> int:
    """Rows of shard ``name``'s entries table in the records' file (0 without the table)."""
    tables = shard_tables(name)
    with contextlib.closing(sqlite3.connect(settings.data_dir / "identity.sqlite3")) as db:
        try:
            return int(db.execute(f"SELECT count(*) FROM {tables.entries}").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_a_tampered_export_is_refused_not_served(
    shard_settings: Settings, receipts: list[ShardReceipt]
) -> None:
    _export(shard_settings)
    folder = shard_settings.log_shards_dir
    assert folder is not None
    bundle = folder / "2026" / "tile" / "entries" / "000.p" / "150"
    bundle.write_bytes(bundle.read_bytes()[:-1] + b"X")
    with TestClient(create_app(shard_settings), raise_server_exceptions=False) as client:
        response = client.get("/log/2026/checkpoint")
        assert response.status_code == 503
        assert response.json()["type"].endswith("/log-integrity")


def test_the_auditor_follows_every_shard(
    client: TestClient, shard_settings: Settings, tmp_path: Path
) -> None:
    vkey = client.get("/log/key").json()["vkey"]
    transport = httpx.Client(transport=client._transport, base_url="http://testserver")  # type: ignore[attr-defined]
    audits = audit_shards("http://testserver", tmp_path / "state.json", vkey, client=transport)
    assert [(a.name, a.report.checkpoint.checkpoint.size) for a in audits] == [
        ("2026", 150),
        ("2027", 150),
    ]
    _export(shard_settings)
    folder = str(shard_settings.log_shards_dir)
    offline = audit_shards(folder, tmp_path / "offline.json", vkey, client=transport)
    assert [a.report.checkpoint.note for a in offline] == [a.report.checkpoint.note for a in audits]
    other = NoteVerifier.from_vkey(vkey)
    wrong = log_key(b"another secret" * 3, shard_settings.log_origin).public_key()
    with pytest.raises(LogIntegrityError):  # another key: every shard fails
        audit_shards(
            folder, tmp_path / "wrong.json", NoteVerifier(other.name, wrong).vkey, client=transport
        )


@pytest.mark.parametrize(
    "values",
    [{"log_shard_period": "week"}, {"log_shard_max_entries": 0}, {"log_shard_grace_s": -1}],
)
def test_bad_shard_settings_are_refused(tmp_path: Path, values: dict[str, Any]) -> None:
    from service.settings import SettingsError

    with pytest.raises(SettingsError):
        Settings(data_dir=tmp_path, master_secret="ab" * 32, **values)


def test_an_unsharded_log_serves_an_empty_shard_list(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", admin_token=ADMIN, master_secret="ab" * 32)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/log/shards").json() == {"shards": []}
        assert client.get("/log/2026/checkpoint").json()["type"] == UNKNOWN
