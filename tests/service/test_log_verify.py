"""``identity log verify`` and the service's read path on a damaged store (issue #12)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from identity.errors import PROBLEMS
from service.log_cli import run_verify
from service.settings import Settings
from tests.service.conftest import credential_for, issue, make_issuer, services_of


def _verify(settings: Settings) -> tuple[int, list[str]]:
    lines: list[str] = []
    return run_verify(settings, lines.append), lines


def test_verify_passes_then_names_a_flipped_interior_node(
    client: TestClient, settings: Settings
) -> None:
    agency = make_issuer(client)
    for n in range(20):
        document = credential_for(agency["did"], id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}")
        assert issue(client, agency, document).status_code == 201
    assert issue(client, agency, waitForCheckpoint=True).status_code == 201
    code, lines = _verify(settings)
    assert code == 0 and lines[-1].startswith("verify ok: tree of"), lines
    size = services_of(client).logs.log.checkpoint.checkpoint.size
    assert size >= 27  # 4 types, 1 issuer, 1 accreditation, 21 credentials
    with sqlite3.connect(Path(settings.data_dir) / "identity.sqlite3") as db:
        (blob,) = db.execute("SELECT hashes FROM log_tiles WHERE id = ?", (2 << 48,)).fetchone()
        data = bytearray(blob)
        data[32 + 5] ^= 0x01  # node 2/1: in no tile, on the path of leaves 0..3
        db.execute("UPDATE log_tiles SET hashes = ? WHERE id = ?", (bytes(data), 2 << 48))
    code, lines = _verify(settings)
    assert code == 1
    # named where it is (its ancestors are compared with the recomputed truth)
    assert lines[:-1] == ["level 2 hash 1: is wrong (recomputed from entries)"]
    # the running service never serves a proof through the damaged node
    services_of(client).logs.log.store._cache.clear()  # type: ignore[attr-defined]
    refused = client.get("/log/proofs/inclusion", params={"index": 0})
    assert refused.status_code == 503, refused.text
    assert refused.json()["type"] == PROBLEMS + "log-integrity"
    assert "damaged" in refused.json()["detail"]
    health = client.get("/health")
    assert health.status_code == 503 and "damaged" in health.json()["detail"]
