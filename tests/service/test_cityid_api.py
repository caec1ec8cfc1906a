"""did:cityid over HTTP: create, rotate, deactivate, resolve (also as of a version or a
time, and in the Universal Resolver's shape), keys valid only for their period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock, xsd_datetime
from identity.dids.cityid import create_operation, key_body, update_operation
from identity.keys import Ed25519PrivateKey
from tests.service.conftest import NOW, services_of
from tests.service.directory_helpers import Citizen

PROBLEMS = "https://identity-service.example/problems/"
VC_DI = "https://w3id.org/security#"
DID_ERRORS = "https://www.w3.org/ns/did#"


def log_size(client: TestClient) -> int:
    return services_of(client).logs.log.store.entry_count()


def operations(client: TestClient, did: str) -> int:
    return len(services_of(client).directory.did_operations(did))


def signed_note(citizen: Citizen, created: Any) -> dict[str, Any]:
    """A small credential the citizen issues about themself, signed at ``created``."""
    return citizen.sign(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": citizen.did,
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": citizen.did},
        },
        created,
    )


def test_create_returns_the_document_with_metadata_and_a_log_receipt(client: TestClient) -> None:
    citizen = Citizen()
    body = citizen.register(client)
    assert body["did"] == citizen.did
    assert body["didDocument"]["verificationMethod"][0]["id"] == citizen.did + "#key-1"
    meta = body["didDocumentMetadata"]
    assert meta["versionId"] == "1" and meta["deactivated"] is False
    assert meta["created"] == xsd_datetime(NOW) and meta["logIndex"] == body["receipt"]["index"]
    entry = services_of(client).logs.log.store.read_entries(meta["logIndex"], meta["logIndex"] + 1)[
        0
    ]
    assert b'"kind":"did.created"' in entry and citizen.did.encode() in entry


def test_resolution_replays_updates_and_answers_as_of_a_version_or_time(
    client: TestClient, clock: FixedClock
) -> None:
    citizen = Citizen()
    citizen.register(client)
    clock.advance(timedelta(days=1))
    assert citizen.rotate(client, 8).status_code == 200
    latest = client.get(f"/dids/{citizen.did}").json()
    assert latest["didDocumentMetadata"]["versionId"] == "2"
    assert latest["didDocumentMetadata"]["updated"] == xsd_datetime(NOW + timedelta(days=1))
    assert latest["didDocument"]["verificationMethod"][0]["id"] == citizen.did + "#key-2"
    first = client.get(f"/dids/{citizen.did}", params={"versionId": "1"}).json()
    assert first["didDocument"]["verificationMethod"][0]["id"] == citizen.did + "#key-1"
    assert first["didDocumentMetadata"]["nextVersionId"] == "2"
    then = client.get(
        f"/dids/{citizen.did}", params={"versionTime": xsd_datetime(NOW + timedelta(hours=1))}
    ).json()
    assert then["didDocumentMetadata"]["versionId"] == "1"
    ops = client.get(f"/dids/{citizen.did}/operations").json()
    assert [o["sequence"] for o in ops] == [0, 1]
    assert [o["operation"]["type"] for o in ops] == ["create", "update"]
    assert ops[1]["logIndex"] == latest["didDocumentMetadata"]["logIndex"]


def test_universal_resolver_shape_and_did_resolution_errors(client: TestClient) -> None:
    citizen = Citizen()
    citizen.register(client)
    ok = client.get(f"/1.0/identifiers/{citizen.did}")
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/did-resolution")
    assert set(ok.json()) >= {"didDocument", "didDocumentMetadata", "didResolutionMetadata"}
    doc = client.get(
        f"/1.0/identifiers/{citizen.did}", headers={"Accept": "application/did+ld+json"}
    )
    assert doc.json()["id"] == citizen.did
    for did, status, code in [
        ("did:cityid:zUnknown", 404, "NOT_FOUND"),
        ("did:nope:abc", 501, "METHOD_NOT_SUPPORTED"),
        ("not-a-did", 400, "INVALID_DID"),
    ]:
        answer = client.get(f"/1.0/identifiers/{did}")
        assert answer.status_code == status
        assert answer.json()["didResolutionMetadata"]["error"]["type"] == DID_ERRORS + code
    assert citizen.deactivate(client).status_code == 200
    gone = client.get(f"/1.0/identifiers/{citizen.did}")
    assert gone.status_code == 410
    assert gone.json()["didDocumentMetadata"]["deactivated"] is True


def test_a_credential_signed_before_a_rotation_verifies_after_it_and_not_a_new_one(
    client: TestClient, clock: FixedClock
) -> None:
    citizen = Citizen()
    citizen.register(client)
    old_key, old_method = citizen.key, citizen.method
    before = signed_note(citizen, NOW + timedelta(minutes=1))
    clock.advance(timedelta(days=1))
    assert citizen.rotate(client, 8).status_code == 200
    verified = client.post("/credentials/verify", json={"verifiableCredential": before})
    assert verified.status_code == 200, verified.text
    stolen = Citizen()
    stolen.key, stolen.did, stolen.fragment = old_key, citizen.did, "#key-1"
    assert stolen.method == old_method
    after = signed_note(stolen, clock.now() + timedelta(minutes=1))
    refused = client.post("/credentials/verify", json={"verifiableCredential": after})
    assert refused.status_code == 422
    assert refused.json()["type"] == VC_DI + "INVALID_VERIFICATION_METHOD"
    fresh = signed_note(citizen, clock.now() + timedelta(minutes=1))
    assert (
        client.post("/credentials/verify", json={"verifiableCredential": fresh}).status_code == 200
    )


def test_a_deactivated_did_verifies_nothing_new_and_accepts_no_operation(
    client: TestClient, clock: FixedClock
) -> None:
    citizen = Citizen()
    citizen.register(client)
    before = signed_note(citizen, NOW)
    clock.advance(timedelta(hours=1))
    assert citizen.deactivate(client).status_code == 200
    assert (
        client.post("/credentials/verify", json={"verifiableCredential": before}).status_code == 200
    )
    after = signed_note(citizen, clock.now())
    assert (
        client.post("/credentials/verify", json={"verifiableCredential": after}).status_code == 422
    )
    size, count = log_size(client), operations(client, citizen.did)
    for response in (citizen.rotate(client, 9), citizen.deactivate(client)):
        assert response.status_code == 409
        assert response.json()["type"] == PROBLEMS + "conflict"
    assert (log_size(client), operations(client, citizen.did)) == (size, count)


def test_an_update_signed_with_a_rotated_out_key_is_refused_and_writes_nothing(
    client: TestClient, clock: FixedClock
) -> None:
    citizen = Citizen()
    citizen.register(client)
    old_key, old_method = citizen.key, citizen.method
    assert citizen.rotate(client, 8).status_code == 200
    size = log_size(client)
    stale = update_operation(
        old_key, old_method, citizen.state(client), key_body(old_key.public_key())
    )
    response = client.post(f"/dids/{citizen.did}/operations", json=stale)
    assert response.status_code == 422
    assert response.json()["type"] == VC_DI + "INVALID_VERIFICATION_METHOD"
    assert (log_size(client), operations(client, citizen.did)) == (size, 2)


def _tampered() -> dict[str, Any]:
    op = create_operation(Ed25519PrivateKey(b"\x05" * 32))
    op["proof"]["proofValue"] = "z" + "1" * 80
    return op


@pytest.mark.parametrize(
    ("make", "status", "problem"),
    [
        (
            lambda: {"type": "create"},
            422,
            "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
        ),
        (
            lambda: {**create_operation(Ed25519PrivateKey(b"\x05" * 32)), "type": "update"},
            422,
            "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
        ),
        (_tampered, 422, VC_DI + "PROOF_VERIFICATION_ERROR"),
        (lambda: [1, 2], 422, "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"),
    ],
)
def test_bad_create_operations_get_problem_json_and_write_nothing(
    client: TestClient, make: Any, status: int, problem: str
) -> None:
    size = log_size(client)
    response = client.post("/dids", json=make())
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == problem
    assert log_size(client) == size


def test_creating_the_same_did_twice_is_a_conflict(client: TestClient) -> None:
    citizen = Citizen()
    citizen.register(client)
    size = log_size(client)
    again = client.post("/dids", json=create_operation(citizen.key))
    assert again.status_code == 409
    assert log_size(client) == size


def test_unknown_did_and_bad_version_options(client: TestClient) -> None:
    citizen = Citizen()
    citizen.register(client)
    assert client.get("/dids/did:cityid:zUnknown").status_code == 404
    assert client.get(f"/dids/{citizen.did}", params={"versionId": "7"}).status_code == 404
    bad_time = client.get(f"/dids/{citizen.did}", params={"versionTime": "yesterday"})
    assert bad_time.status_code == 422
    not_versioned = client.get(
        "/dids/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", params={"versionId": "1"}
    )
    assert not_versioned.status_code == 400


def test_universal_resolver_dereferences_a_fragment(client: TestClient) -> None:
    citizen = Citizen()
    citizen.register(client)
    url = f"/1.0/identifiers/{citizen.did}%23key-1"
    result = client.get(url)
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("application/did-url-dereferencing")
    assert result.json()["contentStream"]["id"] == citizen.did + "#key-1"
    bare = client.get(url, headers={"Accept": "application/did+ld+json"}).json()
    assert bare["type"] == "Multikey" and bare["controller"] == citizen.did
    missing = client.get(f"/1.0/identifiers/{citizen.did}%23nope")
    assert missing.status_code == 404
    assert missing.json()["didResolutionMetadata"]["error"]["type"] == DID_ERRORS + "NOT_FOUND"
