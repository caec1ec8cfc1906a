"""Proof shapes that other implementations emit, signed by an independent code path.

Each credential is signed by ``tests.interop.independent_signer`` (rfc8785 + pynacl +
base58, nothing of ``identity``) and verified through ``POST /credentials/verify``. The shapes
come from peers met in the field: eddsa-jcs-2022 proofs without ``@context`` (vc-di-eddsa
§3.3.1 makes it optional; §3.3.2 uses it only when present), without ``created`` (Data
Integrity §2.1: optional), and ``proof`` as a one-element list (a proof set of one, §2.1.1).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import base58
import pytest
from fastapi.testclient import TestClient

from tests.conftest import vector_json
from tests.interop.independent_signer import DidKeySigner

SIGNER = DidKeySigner(bytes(range(32)))

SHAPES = {
    f"context={ctx},created={created},list={as_list}": {
        "proof_context": ctx,
        "created": "2026-05-01T00:00:00Z" if created else None,
        "as_list": as_list,
    }
    for ctx, created, as_list in itertools.product([True, False], repeat=3)
}


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": "urn:uuid:7d2b1e34-5b1c-4c9b-9a55-0d6b2a9e0c11",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "alumniOf": "The School of Examples",
        },
    }


def _proof_of(vc: dict[str, Any]) -> dict[str, Any]:
    proof = vc["proof"]
    return proof[0] if isinstance(proof, list) else proof  # type: ignore[no-any-return]


def test_the_independent_signer_reproduces_the_published_vector() -> None:
    """The test signer is itself checked against vc-di-eddsa's eddsa-jcs-2022 vector."""
    secret = base58.b58decode(vector_json("eddsa-common/keyPair.json")["privateKeyMultibase"][1:])
    signer = DidKeySigner(secret[2:])
    published = vector_json("eddsa-jcs-2022/signedJCS.json")
    unsigned = {k: v for k, v in published.items() if k != "proof"}
    signed = signer.sign_jcs(unsigned, created=published["proof"]["created"])
    assert signed["proof"]["verificationMethod"] == published["proof"]["verificationMethod"]
    assert signed["proof"]["proofValue"] == published["proof"]["proofValue"]


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_a_peer_proof_shape_verifies(client: TestClient, shape: dict[str, Any]) -> None:
    vc = SIGNER.sign_jcs(_credential(SIGNER.did), **shape)
    proof = _proof_of(vc)
    assert ("@context" in proof) is shape["proof_context"]
    assert ("created" in proof) is (shape["created"] is not None)
    assert isinstance(vc["proof"], list) is shape["as_list"]

    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True
    assert body["problemDetails"] == []
    assert body["results"]["proof"]["valid"] is True
    assert body["results"]["issuer"]["valid"] is True


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_the_same_shape_tampered_is_refused(client: TestClient, shape: dict[str, Any]) -> None:
    """The positive case is not a verifier that accepts anything of that shape."""
    vc = SIGNER.sign_jcs(_credential(SIGNER.did), **shape)
    tampered = copy.deepcopy(vc)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    response = client.post("/credentials/verify", json={"verifiableCredential": tampered})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"
    assert body["results"]["proof"]["valid"] is False


def test_a_proof_context_the_document_does_not_start_with_is_refused(
    client: TestClient,
) -> None:
    """§3.3.2 step 4.1: a proof ``@context`` must be a prefix of the document's."""
    unsecured = _credential(SIGNER.did)
    vc = SIGNER.sign_jcs(unsecured)
    vc["proof"]["@context"] = ["https://www.w3.org/ns/credentials/examples/v2"]
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422, response.text
    assert response.json()["results"]["proof"]["valid"] is False
