"""POST /credentials/verify accepts an eddsa-jcs-2022 proof made without ``@context``
(vc-di-eddsa §3.3.1/§3.3.2/§3.3.5), signed here by an independent code path."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import vector_json
from tests.proofs.test_jcs_proof_as_given import _options, sign_independently


def test_a_proof_without_context_verifies_over_http(client: TestClient) -> None:
    unsigned = vector_json("eddsa-common/unsigned.json")
    vc = sign_independently(unsigned, _options())
    assert "@context" not in vc["proof"]
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": vc, "options": {"checks": ["proof"]}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"]["proof"]["proofs"][0]["cryptosuite"] == "eddsa-jcs-2022"


def test_a_context_added_afterwards_fails_over_http(client: TestClient) -> None:
    unsigned = vector_json("eddsa-common/unsigned.json")
    vc = sign_independently(unsigned, _options())
    vc["proof"]["@context"] = unsigned["@context"]
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"
    assert body["problemDetails"][0]["check"] == "proof"
