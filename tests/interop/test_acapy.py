"""Cross-verification with ACA-Py 1.7 (acapy-agent), both directions, eddsa-jcs-2022.

ACA-Py signs eddsa-jcs-2022 with its Data Integrity route (``/vc/di/add-proof``; its VC-API
``/vc/credentials/issue`` knows only Linked Data proof types in 1.7, and signs
Ed25519Signature2020 there, which we verify too) and a did:key of its own wallet; this
service verifies over ``POST /credentials/verify``. This service issues and
ACA-Py verifies (``/vc/di/verify``). Each direction also refuses a tampered credential, so a
verifier that says yes to everything cannot pass.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.interop.conftest import AcaPy, assert_refused_here, assert_verifies_here
from tests.service.conftest import issue, make_issuer

pytestmark = pytest.mark.interop


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": "urn:uuid:3f1c2b7a-9d0e-4b8e-8f55-6a1d2c3b4e5f",
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "degree": {"type": "ExampleBachelorDegree", "name": "Bachelor of Science"},
        },
    }


@pytest.fixture(scope="module")
def acapy_credential(acapy: AcaPy) -> dict[str, Any]:
    did = acapy.create_did_key()
    return acapy.add_proof(_credential(did), did)


def test_acapy_emits_the_peer_proof_shape(acapy_credential: dict[str, Any]) -> None:
    """What ACA-Py 1.7 makes: a one-element proof list, no proof @context, no created."""
    proofs = acapy_credential["proof"]
    assert isinstance(proofs, list) and len(proofs) == 1
    assert proofs[0]["cryptosuite"] == "eddsa-jcs-2022"
    assert "@context" not in proofs[0]
    assert "created" not in proofs[0]


def test_an_acapy_credential_verifies_here(
    client: TestClient, acapy_credential: dict[str, Any]
) -> None:
    assert_verifies_here(client, acapy_credential)


def test_a_tampered_acapy_credential_is_refused_here(
    client: TestClient, acapy_credential: dict[str, Any]
) -> None:
    tampered = copy.deepcopy(acapy_credential)
    tampered["credentialSubject"]["degree"]["name"] = "Doctor of Science"
    assert_refused_here(client, tampered)


VC_API_CREDENTIALS = {
    "vc1.1": {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21"},
    },
    "vc2.0": {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "name": "Alice"},
    },
}


@pytest.mark.parametrize("model", VC_API_CREDENTIALS)
def test_an_acapy_vc_api_credential_verifies_here(
    client: TestClient, acapy: AcaPy, model: str
) -> None:
    """ACA-Py's VC-API route signs Ed25519Signature2020; we verify it, and refuse it tampered."""
    did = acapy.create_did_key()
    vc = acapy.issue_vc_api({**VC_API_CREDENTIALS[model], "issuer": did})
    assert vc["proof"]["type"] == "Ed25519Signature2020"

    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["proof"]["valid"] is True

    tampered = copy.deepcopy(vc)
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    refused = client.post("/credentials/verify", json={"verifiableCredential": tampered})
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"


def test_acapy_verifies_ours(client: TestClient, acapy: AcaPy) -> None:
    agency = make_issuer(client)
    issued = issue(client, agency, cryptosuite="eddsa-jcs-2022")
    assert issued.status_code == 201, issued.text
    vc = issued.json()["verifiableCredential"]
    assert "@context" in vc["proof"]  # our proofs keep the §3.3.1 proof @context

    response = acapy.verify(vc)
    assert response.status_code == 200, response.text
    results = response.json()["verificationResults"]
    assert results["verified"] is True
    assert [r["verified"] for r in results["results"]] == [True]


def test_acapy_refuses_ours_tampered(client: TestClient, acapy: AcaPy) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency, cryptosuite="eddsa-jcs-2022").json()["verifiableCredential"]
    vc["credentialSubject"]["residenceAddress"] = "Somewhere else"

    response = acapy.verify(vc)
    assert response.status_code == 400, response.text
    assert response.json()["verificationResults"]["verified"] is False
