"""Every act is anchored; receipts verify offline; the log can be audited from outside."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import LogIntegrityError
from identity.log.checkpoint import NoteVerifier, open_checkpoint
from identity.log.entries import LogEntry
from identity.log.hashing import leaf_hash
from identity.log.proofs import verify_inclusion
from service.app import create_app
from service.audit import audit
from service.settings import Settings, SettingsError
from tests.service.conftest import BUNDLED_TYPES, NOW, admin, issue, make_issuer, services_of


def _vkey(client: TestClient) -> NoteVerifier:
    return NoteVerifier.from_vkey(client.get("/log/key").json()["vkey"])


def test_issuance_receipt_with_inclusion_proof_verifies_offline(client: TestClient) -> None:
    agency = make_issuer(client)
    response = issue(client, agency, waitForCheckpoint=True)
    assert response.status_code == 201
    receipt = response.json()["receipt"]
    checkpoint = open_checkpoint(receipt["checkpoint"].encode(), _vkey(client), receipt["origin"])
    verify_inclusion(
        receipt["index"],
        checkpoint.checkpoint.size,
        bytes.fromhex(receipt["leafHash"]),
        [bytes.fromhex(h) for h in receipt["inclusionProof"]],
        checkpoint.checkpoint.root,
    )


def test_the_leaf_holds_digests_and_identifiers_never_claims(client: TestClient) -> None:
    agency = make_issuer(client)
    response = issue(client, agency, waitForCheckpoint=True).json()
    entry = client.get(f"/log/entries/{response['receipt']['index']}").json()
    data = base64.b64decode(entry["entry"])
    assert leaf_hash(data).hex() == response["receipt"]["leafHash"]
    parsed = LogEntry.parse(data)
    assert parsed.kind == "credential.issued"
    assert parsed.fields["issuer"] == agency["did"]
    assert parsed.fields["type"] == "ResidencePermitCredential"
    assert parsed.fields["credential_digest"].startswith("sha256:")
    for claim in ("Li Lei", "1990-02-03", "Xuhui", "SH2026001", "citizen-1"):
        assert claim.encode() not in data


def test_verify_reports_the_anchor(client: TestClient) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency, waitForCheckpoint=True).json()["verifiableCredential"]
    anchor = client.post("/credentials/verify", json={"verifiableCredential": vc}).json()[
        "results"
    ]["anchor"]
    assert anchor["valid"] is True and anchor["integrated"] is True
    assert anchor["origin"] == services_of(client).settings.log_origin


def test_agencies_accreditations_and_status_changes_are_anchored(client: TestClient) -> None:
    agency = make_issuer(client)
    cred_id = issue(client, agency).json()["credentialId"]
    client.post(
        "/credentials/status",
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
        json={"credentialId": cred_id, "credentialStatus": [{"status": "revoked"}]},
    )
    log = services_of(client).logs.log
    size = log.store.entry_count()
    kinds = [LogEntry.parse(e).kind for e in log.store.read_entries(0, size)]
    seeded = len(BUNDLED_TYPES)  # the bundled types the service registers at first start
    assert kinds[:seeded] == ["type.registered"] * seeded
    assert kinds[seeded:] == [
        "issuer.created",
        "accreditation.granted",
        "credential.issued",
        "credential.revoked",
    ]


def test_the_checkpoint_is_a_signed_note_under_the_published_key(client: TestClient) -> None:
    make_issuer(client)
    services_of(client)
    note = client.get("/log/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    signed = open_checkpoint(note.content, _vkey(client), services_of(client).logs.log.origin)
    assert signed.checkpoint.size >= 1


def test_an_outside_auditor_replays_the_log(client: TestClient, tmp_path: Path) -> None:
    agency = make_issuer(client)
    for _ in range(3):
        issue(client, agency, waitForCheckpoint=True)
    report = audit("http://testserver", tmp_path / "state.json", _vkey(client), client=client)
    assert (
        report.checkpoint.checkpoint.size == services_of(client).logs.log.checkpoint.checkpoint.size
    )
    issue(client, agency, waitForCheckpoint=True)
    again = audit("http://testserver", tmp_path / "state.json", _vkey(client), client=client)
    assert again.checkpoints_checked >= 2


def test_the_auditor_catches_a_rewritten_entry(client: TestClient, tmp_path: Path) -> None:
    agency = make_issuer(client)
    issue(client, agency, waitForCheckpoint=True)
    audit("http://testserver", tmp_path / "state.json", _vkey(client), client=client)
    path = Path(services_of(client).settings.data_dir) / "identity.sqlite3"
    with sqlite3.connect(path) as db:
        (data,) = db.execute("SELECT data FROM log_entries WHERE idx = 0").fetchone()
        flipped = bytearray(data)
        flipped[-2] ^= 0x01
        db.execute("UPDATE log_entries SET data = ? WHERE idx = 0", (bytes(flipped),))
    services_of(client).logs.log.store._cache.clear()  # type: ignore[attr-defined]
    with pytest.raises(LogIntegrityError):
        audit("http://testserver", tmp_path / "state.json", _vkey(client), client=client)


def test_a_store_of_another_log_is_refused_at_start(tmp_path: Path) -> None:
    def app(origin: str) -> Any:
        settings = Settings(
            data_dir=tmp_path, admin_token="a" * 40, master_secret="ab" * 32, log_origin=origin
        )
        return create_app(settings, clock=FixedClock(NOW))

    with TestClient(app("city.example/log")) as first:
        assert (
            first.post(
                "/issuers", json={"name": "A"}, headers={"Authorization": "Bearer " + "a" * 40}
            ).status_code
            == 201
        )
    # A start-up refusal naming what changed (issue #13), not a log traceback.
    with (
        pytest.raises(SettingsError, match="IDENTITY_MASTER_SECRET or IDENTITY_LOG_ORIGIN"),
        TestClient(app("other.example/log")),
    ):
        pass


def test_the_log_read_api_refuses_bad_input(client: TestClient) -> None:
    make_issuer(client)
    for path, status in [
        ("/log/entries/99999", 404),
        ("/log/entries/-1", 400),
        ("/log/proofs/consistency?first=5&second=2", 400),
        ("/log/proofs/inclusion?leaf_hash=zz&tree_size=1", 400),
        ("/log/tile/0/x999/999", 404),
    ]:
        response = client.get(path)
        assert response.status_code in (status, 422, 404), (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert client.post("/log/entries/0").status_code == 405
    assert admin()  # the read API takes no credentials and offers no writes
