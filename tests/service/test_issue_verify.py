"""The two flows over HTTP: issue -> verify round trips, tampering, offline did:key."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.conftest import vector_json
from tests.proofs.support import did_key_signer
from tests.service.conftest import credential_for, issue, make_issuer, services_of

PROBLEM = "application/problem+json"


def test_issue_returns_201_with_a_signed_credential(client: TestClient) -> None:
    agency = make_issuer(client)
    response = issue(client, agency)
    assert response.status_code == 201
    vc = response.json()["verifiableCredential"]
    assert vc["issuer"] == agency["did"]
    assert vc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert vc["proof"]["verificationMethod"] == agency["verificationMethod"]
    assert vc["proof"]["created"] == "2026-06-01T12:00:00Z"
    assert services_of(client).store.count_credentials() == 1


def test_issued_credential_verifies_with_every_check_named(client: TestClient) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency).json()["verifiableCredential"]
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is True
    assert body["problemDetails"] == []
    assert body["checks"] == [
        "wellFormed",
        "proof",
        "issuer",
        "validityPeriod",
        "status",
        "issuerTrust",
        "anchor",
    ]
    assert all(r["valid"] for r in body["results"].values())


def test_a_credential_without_issuer_is_refused(client: TestClient) -> None:
    agency = make_issuer(client)
    cred = credential_for(agency["did"])
    del cred["issuer"]
    response = issue(client, agency, cred)
    assert response.status_code == 422
    assert response.json()["type"] == "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
    assert services_of(client).store.count_credentials() == 0


def test_unknown_options_are_accepted_and_ignored(client: TestClient) -> None:
    agency = make_issuer(client)
    assert issue(client, agency, credentialId="x", somethingElse={"a": 1}).status_code == 201


def test_stored_record_holds_digests_not_claims(client: TestClient) -> None:
    agency = make_issuer(client)
    cred = credential_for(agency["did"], id="urn:uuid:0b4c3a9e-1111-4000-8000-000000000001")
    issue(client, agency, cred)
    record = services_of(client).store.get_credential(cred["id"])
    assert record.type == "ResidencePermitCredential"
    assert record.issuer_did == agency["did"]
    assert "Xuhui" not in repr(record)


TAMPERS = {
    "claim": lambda d: d["credentialSubject"].__setitem__("residenceAddress", "Pudong"),
    "issuer": lambda d: d.__setitem__(
        "issuer", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    ),
    "validFrom": lambda d: d.__setitem__("validFrom", "2025-01-01T00:00:00Z"),
    # Replacing the signed context; *appending* one is allowed by eddsa-jcs-2022 §3.3.2.
    "@context": lambda d: d.__setitem__("@context", ["https://www.w3.org/2018/credentials/v1"]),
    "proof.@context": lambda d: d["proof"].__setitem__(
        "@context", ["https://www.w3.org/ns/credentials/examples/v2"]
    ),
    "proof.created": lambda d: d["proof"].__setitem__("created", "2026-06-01T12:00:01Z"),
    "proofValue": lambda d: d["proof"].__setitem__(
        "proofValue", d["proof"]["proofValue"][:-3] + "abc"
    ),
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_tampering_with_any_signed_field_fails_verification(client: TestClient, field: str) -> None:
    agency = make_issuer(client)
    vc = copy.deepcopy(issue(client, agency).json()["verifiableCredential"])
    TAMPERS[field](vc)
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["verified"] is False
    assert body["problemDetails"], body
    assert {p["check"] for p in body["problemDetails"]} <= set(body["checks"])


def test_credential_from_an_unknown_did_key_issuer_verifies_offline(client: TestClient) -> None:
    key, did, options = did_key_signer(b"\x05" * 32)
    vc = add_proof(EddsaJcs2022(), credential_for(did), options, key)
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 200, response.text


def test_published_jcs_vector_fails_only_the_issuer_binding(client: TestClient) -> None:
    """The W3C vector's issuer is an https URL the did:key does not belong to: the proof
    verifies, but the service refuses a credential its issuer did not sign."""
    response = client.post(
        "/credentials/verify",
        json={"verifiableCredential": vector_json("eddsa-jcs-2022/signedJCS.json")},
    )
    assert response.status_code == 422
    results = response.json()["results"]
    assert results["proof"]["valid"] is True
    assert results["issuer"]["valid"] is False


def test_credential_signed_by_another_key_than_the_issuer_fails(client: TestClient) -> None:
    agency = make_issuer(client)
    key = Ed25519PrivateKey(b"\x06" * 32)
    did = "did:key:" + key.public_key().multibase
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": f"{did}#{did[8:]}",
        "proofPurpose": "assertionMethod",
    }
    forged = add_proof(EddsaJcs2022(), credential_for(agency["did"]), options, key)
    response = client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert response.status_code == 422
    assert [p["check"] for p in response.json()["problemDetails"]] == ["issuer"]


def _expiring(client: TestClient, **dates: str) -> dict[str, Any]:
    agency = make_issuer(client)
    cred = credential_for(agency["did"], **dates)
    response = issue(client, agency, cred)
    assert response.status_code == 201, response.text
    vc: dict[str, Any] = response.json()["verifiableCredential"]
    return vc


def test_expired_credential_fails_the_validity_period(
    client: TestClient, clock: FixedClock
) -> None:
    vc = _expiring(client, validUntil="2026-07-01T00:00:00Z")
    assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
    clock.advance(timedelta(days=60))
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422
    assert response.json()["results"]["validityPeriod"]["valid"] is False
    assert response.json()["type"] == "https://www.w3.org/TR/vc-data-model#RANGE_ERROR"


def test_not_yet_valid_credential_fails(client: TestClient) -> None:
    vc = _expiring(client, validFrom="2027-01-01T00:00:00Z")
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422
    assert [p["check"] for p in response.json()["problemDetails"]] == ["validityPeriod"]


def test_adding_a_proof_to_a_signed_credential_makes_a_proof_set(client: TestClient) -> None:
    agency = make_issuer(client)
    other = make_issuer(client, "Civil Affairs Bureau")
    vc = issue(client, agency).json()["verifiableCredential"]
    vc_with_id = {**vc, "issuer": agency["did"]}
    response = client.post(
        "/credentials/issue",
        json={"credential": vc_with_id},
        headers={"Authorization": f"Bearer {other['apiKey']}"},
    )
    # The second agency is not the credential's issuer, so it may not sign it.
    assert response.status_code == 403
    again = issue(client, agency, vc)
    assert again.status_code == 201
    assert len(again.json()["verifiableCredential"]["proof"]) == 2
    verify = client.post(
        "/credentials/verify", json={"verifiableCredential": again.json()["verifiableCredential"]}
    )
    assert verify.status_code == 200, verify.text


def test_options_checks_limits_what_decides_the_answer(client: TestClient) -> None:
    """VC-API ``options.checks``: the W3C vector's issuer is not its signer, so the full
    verification fails on ``issuer``; asking for ``proof`` alone passes."""
    vc = vector_json("eddsa-jcs-2022/signedJCS.json")
    only_proof = client.post(
        "/credentials/verify", json={"verifiableCredential": vc, "options": {"checks": ["proof"]}}
    )
    assert only_proof.status_code == 200
    assert only_proof.json()["checks"] == ["wellFormed", "proof"]
    everything = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert everything.status_code == 422
