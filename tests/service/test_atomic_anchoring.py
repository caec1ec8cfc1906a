"""The service's log holds exactly what took effect (issue #12), found from outside.

Concurrent requests on one record through the HTTP API: one is admitted, the others are
refused, and only the admitted one has a log entry -- then ``identity log reconcile``
(:func:`service.log_cli.run_reconcile`) finds nothing. Each of these left extra leaves
before acts and entries were committed in one store write.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from identity.log.entries import LogEntry
from service.log_cli import run_reconcile
from service.settings import Settings
from tests.service.conftest import admin, credential_for, issue, make_issuer, services_of


def _entries(client: TestClient, kind: str) -> list[LogEntry]:
    log = services_of(client).logs.log.store
    every = [LogEntry.parse(e) for e in log.read_entries(0, log.entry_count())]
    return [e for e in every if e.kind == kind]


def _reconcile(settings: Settings) -> tuple[int, list[str]]:
    lines: list[str] = []
    return run_reconcile(settings, lines.append), lines


def _concurrently(n: int, call: Any) -> list[Any]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: call(), range(n)))


def test_concurrent_duplicate_issuer_ids_leave_one_leaf(
    client: TestClient, settings: Settings
) -> None:
    responses = _concurrently(
        8, lambda: client.post("/issuers", json={"id": "dup-1", "name": "A"}, headers=admin())
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    [leaf] = [e for e in _entries(client, "issuer.created") if e.fields["issuer"] == "dup-1"]
    created = next(r for r in responses if r.status_code == 201).json()
    assert leaf.fields["did"] == created["did"]
    code, lines = _reconcile(settings)
    assert code == 0 and lines[-1].startswith("reconcile ok:"), lines


def test_concurrent_duplicate_credential_ids_leave_one_leaf(
    client: TestClient, settings: Settings
) -> None:
    agency = make_issuer(client)
    document = credential_for(agency["did"], id="urn:uuid:00000000-0000-4000-8000-000000000001")
    responses = _concurrently(16, lambda: issue(client, agency, document))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 15
    [leaf] = _entries(client, "credential.issued")
    receipt = next(r for r in responses if r.status_code == 201).json()["receipt"]
    log = services_of(client).logs.log.store
    assert LogEntry.parse(log.read_entries(receipt["index"], receipt["index"] + 1)[0]) == leaf
    code, lines = _reconcile(settings)
    assert code == 0, lines


def test_a_second_revocation_of_an_accreditation_is_refused_without_a_leaf(
    client: TestClient, settings: Settings
) -> None:
    agency = make_issuer(client)
    [accreditation] = client.get("/accreditations", params={"issuer": agency["id"]}).json()
    path = f"/accreditations/{accreditation['id']}/revoke"
    assert client.post(path, headers=admin()).status_code == 200
    again = client.post(path, headers=admin())
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("/conflict")
    assert len(_entries(client, "accreditation.revoked")) == 1
    assert _reconcile(settings)[0] == 0


def test_reconcile_names_what_the_log_and_the_store_disagree_on(
    client: TestClient, settings: Settings
) -> None:
    agency = make_issuer(client)
    assert issue(client, agency).status_code == 201
    other = make_issuer(client, "Tax Bureau", accredit=False)
    path = Path(settings.data_dir) / "identity.sqlite3"
    with sqlite3.connect(path) as db:  # a record lost, another forged without its entry
        db.execute("DELETE FROM api_keys WHERE issuer_id = ?", (other["id"],))
        db.execute("DELETE FROM issuers WHERE id = ?", (other["id"],))
        db.execute(
            "INSERT INTO issuers VALUES ('forged', 'F', 'did:key:zforged', x'00', '2026-01-01')"
        )
    code, lines = _reconcile(settings)
    assert code == 1
    assert any(
        line.startswith("orphan leaf at log index") and other["id"] in line for line in lines
    ), lines
    assert any(line.startswith("unanchored record") and "forged" in line for line in lines)
    assert lines[-1].startswith("reconcile FAILED: 2 disagreements")
