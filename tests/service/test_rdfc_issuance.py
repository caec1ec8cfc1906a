"""eddsa-rdfc-2022 and VC 1.1 through the service's endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.errors import VC_DI
from tests.service.conftest import credential_for, issue, make_issuer, services_of


def test_rdfc_issue_and_verify_a_bundled_type(client: TestClient) -> None:
    agency = make_issuer(client)
    response = issue(client, agency, cryptosuite="eddsa-rdfc-2022", type="DataIntegrityProof")
    assert response.status_code == 201, response.text
    vc = response.json()["verifiableCredential"]
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    verified = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert verified.status_code == 200, verified.text
    assert verified.json()["results"]["proof"]["proofs"][0]["cryptosuite"] == "eddsa-rdfc-2022"


@pytest.mark.parametrize("field", ["claim", "added term", "context"])
def test_rdfc_tampering_fails(client: TestClient, field: str) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency, cryptosuite="eddsa-rdfc-2022").json()["verifiableCredential"]
    if field == "claim":
        vc["credentialSubject"]["fullName"] = "Han Meimei"
    elif field == "added term":
        vc["credentialSubject"]["notInAnyContext"] = "x"
    else:
        vc["@context"] = vc["@context"][:-1]
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code in (400, 422)
    assert response.json()["verified"] is False


def test_an_undefined_term_is_refused_at_issuance_with_data_loss_error(client: TestClient) -> None:
    agency = make_issuer(client)
    cred = credential_for(
        agency["did"],
        type=["VerifiableCredential"],
        credentialSubject={"id": "did:example:1", "undefinedTerm": "x"},
    )
    before = services_of(client).store.count_credentials()
    response = issue(client, agency, cred, cryptosuite="eddsa-rdfc-2022")
    assert response.status_code in (400, 422)
    assert response.json()["type"] == VC_DI + "DATA_LOSS_DETECTION_ERROR"
    assert services_of(client).store.count_credentials() == before


def test_a_vc_1_1_credential_gets_the_data_integrity_context(client: TestClient) -> None:
    agency = make_issuer(client)
    cred: dict[str, Any] = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": agency["did"],
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1"},
    }
    response = issue(client, agency, cred, cryptosuite="eddsa-rdfc-2022")
    assert response.status_code == 201, response.text
    vc = response.json()["verifiableCredential"]
    assert vc["@context"] == [
        "https://www.w3.org/2018/credentials/v1",
        "https://w3id.org/security/data-integrity/v2",
    ]
    assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200


def test_an_expired_vc_1_1_credential_fails(client: TestClient) -> None:
    agency = make_issuer(client)
    cred = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": agency["did"],
        "issuanceDate": "2025-01-01T00:00:00Z",
        "expirationDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1"},
    }
    vc = issue(client, agency, cred, cryptosuite="eddsa-rdfc-2022").json()["verifiableCredential"]
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422
    assert [p["check"] for p in response.json()["problemDetails"]] == ["validityPeriod"]
