"""The city-hosted wallet over HTTP: each credential issued to a citizen is kept sealed,
listed for that citizen's DID session, and rendered as a QR code by
``GET /wallet/credentials/{id}/qr`` (issue #14). Refusals: status, problem type, and
nothing written."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.credentials import qrcode
from identity.errors import UnavailableError
from identity.wallet_store import WalletSealer
from tests.service.conftest import credential_for, issue, make_issuer, services_of
from tests.service.directory_helpers import Citizen

PROBLEMS = "https://identity-service.example/problems/"


def issued_to(client: TestClient, citizen: Citizen) -> dict[str, Any]:
    agency = make_issuer(client)
    document = credential_for(agency["did"])
    document["credentialSubject"]["id"] = citizen.did
    response = issue(client, agency, document)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def signed_in(client: TestClient, clock: Any, seed: int) -> tuple[Citizen, dict[str, str]]:
    citizen = Citizen(seed=seed)
    citizen.register(client)
    return citizen, citizen.headers(client, clock.now())


def wallet_rows(client: TestClient) -> list[tuple[Any, ...]]:
    path = services_of(client).store.path  # type: ignore[attr-defined]
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM wallet ORDER BY rowid").fetchall()


def test_my_credential_is_listed_held_and_its_qr_code_is_the_credential(
    client: TestClient, clock: Any
) -> None:
    citizen, headers = signed_in(client, clock, 31)
    issued = issued_to(client, citizen)
    cid = issued["credentialId"]
    [listed] = client.get("/wallet/credentials", headers=headers).json()
    assert listed["id"] == cid and listed["held"] is True
    assert client.get(f"/wallet/credentials/{cid}", headers=headers).json()["held"] is True
    svg = client.get(f"/wallet/credentials/{cid}/qr", headers=headers)
    assert svg.status_code == 200, svg.text
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["cache-control"] == "no-store"
    assert svg.text.startswith("<svg") and "QR code" in svg.text
    png = client.get(f"/wallet/credentials/{cid}/qr?format=png", headers=headers)
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    by_accept = client.get(
        f"/wallet/credentials/{cid}/qr", headers=headers | {"Accept": "image/png"}
    )
    assert by_accept.headers["content-type"] == "image/png"
    assert by_accept.content == png.content
    payload_length = int(png.headers["x-qr-payload-length"])
    assert payload_length == len(qrcode.encode(issued["verifiableCredential"]))
    # The same code as the one made from the credential the agency handed out.
    posted = client.post(
        f"/wallet/credentials/{cid}/qr?format=png",
        json=issued["verifiableCredential"],
        headers=headers,
    )
    assert posted.status_code == 200 and posted.content == png.content


def test_the_credential_is_sealed_at_rest_and_bound_to_its_citizen(
    client: TestClient, clock: Any
) -> None:
    citizen, _ = signed_in(client, clock, 32)
    issued = issued_to(client, citizen)
    [(cid, subject, sealed, _kept)] = wallet_rows(client)
    assert (cid, subject) == (issued["credentialId"], citizen.did)
    assert b"SH2026001" not in sealed and b"Li Lei" not in sealed
    sealer = WalletSealer(bytes.fromhex("ab" * 32))
    opened = json.loads(sealer.open(subject, cid, sealed))
    assert opened == issued["verifiableCredential"]
    with pytest.raises(ValueError):
        sealer.open("did:example:someone-else", cid, sealed)
    with pytest.raises(ValueError):
        WalletSealer(b"\x01" * 32).open(subject, cid, sealed)


def test_refusals_leak_nothing_and_write_nothing(
    client: TestClient, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    citizen, headers = signed_in(client, clock, 33)
    cid = issued_to(client, citizen)["credentialId"]
    _, other = signed_in(client, clock, 34)
    svc = services_of(client)
    before = (svc.logs.log.store.entry_count(), wallet_rows(client))
    path = f"/wallet/credentials/{cid}/qr"
    assert client.get(path).status_code == 401
    theirs = client.get(path, headers=other)
    unknown = client.get("/wallet/credentials/urn:uuid:no-such/qr", headers=other)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["type"] == unknown.json()["type"] == PROBLEMS + "not-found"
    assert theirs.json()["detail"] == unknown.json()["detail"]  # no existence leak
    assert client.get("/wallet/credentials", headers=other).json() == []
    gif = client.get(path + "?format=gif", headers=headers)
    assert gif.status_code == 422 and gif.headers["content-type"] == "application/problem+json"
    monkeypatch.setattr(qrcode, "MAX_COMPRESSED_BYTES", 100)
    large = client.get(path, headers=headers)
    assert large.status_code == 422
    problem = large.json()
    assert problem["type"] == PROBLEMS + "qr-capacity"
    assert problem["limit"] == 100 and problem["compressedBytes"] > 100
    assert (svc.logs.log.store.entry_count(), wallet_rows(client)) == before


def test_a_credential_the_wallet_could_not_keep_is_issued_and_posted_instead(
    client: TestClient, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    citizen, headers = signed_in(client, clock, 35)

    def down(entries: Any) -> None:
        raise UnavailableError("the wallet store is down")

    wallet = services_of(client).issuance.wallet
    monkeypatch.setattr(wallet.store, "keep_many", down)
    monkeypatch.setattr(wallet, "_writer", None)  # a writer over the failing store
    issued = issued_to(client, citizen)  # still 201: the record and its entry committed
    cid = issued["credentialId"]
    [listed] = client.get("/wallet/credentials", headers=headers).json()
    assert listed["held"] is False
    missing = client.get(f"/wallet/credentials/{cid}/qr", headers=headers)
    assert missing.status_code == 404 and "POST" in missing.json()["detail"]
    posted = client.post(
        f"/wallet/credentials/{cid}/qr", json=issued["verifiableCredential"], headers=headers
    )
    assert posted.status_code == 200 and posted.headers["content-type"] == "image/svg+xml"


def test_a_credential_without_a_subject_id_is_not_kept(client: TestClient, clock: Any) -> None:
    citizen, _ = signed_in(client, clock, 36)
    issued = issued_to(client, citizen)
    svc = services_of(client)
    record = svc.store.get_credential(issued["credentialId"])
    anonymous = replace(record, id="urn:uuid:no-subject", subject_id=None)
    kept = asyncio.run(svc.issuance.wallet.keep(anonymous, issued["verifiableCredential"]))
    assert kept is False
    assert len(wallet_rows(client)) == 1
