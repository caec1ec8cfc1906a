"""eddsa-jcs-2022 verification follows the proof as given (vc-di-eddsa §3.3.2, §3.3.5):
a proof without ``@context`` -- which §3.3.1 allows and other issuers produce -- hashes
its options exactly as they are. Signed here by an independent code path (rfc8785 and
PyNaCl directly), not by the project's ``add_proof``."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import base58
import nacl.signing
import pytest
import rfc8785

from identity.dids.key import DidKeyResolver, did_from_key
from identity.errors import ProofVerificationError
from identity.keys import Ed25519PrivateKey
from identity.proofs import SuiteRegistry, verify_proofs
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.conftest import vector_json

SEED = bytes(range(32, 64))
REGISTRY = SuiteRegistry([EddsaJcs2022()])


def _vm() -> str:
    did = did_from_key(Ed25519PrivateKey(SEED).public_key())
    return f"{did}#{did.removeprefix('did:key:')}"


def sign_independently(unsecured: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """§3.3.1-§3.3.5 written out: hash JCS(options) ‖ hash JCS(document), sign, attach."""
    data = (
        hashlib.sha256(rfc8785.dumps(options)).digest()
        + hashlib.sha256(rfc8785.dumps(unsecured)).digest()
    )
    signature = nacl.signing.SigningKey(SEED).sign(data).signature
    proof = {**options, "proofValue": "z" + base58.b58encode(signature).decode()}
    return {**copy.deepcopy(unsecured), "proof": proof}


def _options(**extra: Any) -> dict[str, Any]:
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2024-05-01T00:00:00Z",
        "verificationMethod": _vm(),
        "proofPurpose": "assertionMethod",
        **extra,
    }


def _verify(document: dict[str, Any]) -> None:
    verify_proofs(document, REGISTRY, DidKeyResolver(), purpose="assertionMethod")


def test_a_proof_without_context_verifies() -> None:
    _verify(sign_independently(vector_json("eddsa-common/unsigned.json"), _options()))


def test_a_proof_without_context_or_created_verifies() -> None:
    options = _options()
    del options["created"]
    _verify(sign_independently(vector_json("eddsa-common/unsigned.json"), options))


def test_a_proof_with_the_document_context_still_verifies() -> None:
    unsigned = vector_json("eddsa-common/unsigned.json")
    _verify(sign_independently(unsigned, _options(**{"@context": unsigned["@context"]})))


def test_a_context_added_to_a_proof_made_without_one_breaks_it() -> None:
    unsigned = vector_json("eddsa-common/unsigned.json")
    signed = sign_independently(unsigned, _options())
    signed["proof"]["@context"] = unsigned["@context"]
    with pytest.raises(ProofVerificationError):
        _verify(signed)


def test_a_claim_changed_under_a_proof_without_context_fails() -> None:
    signed = sign_independently(vector_json("eddsa-common/unsigned.json"), _options())
    signed["credentialSubject"]["alumniOf"] = "Other School"
    with pytest.raises(ProofVerificationError):
        _verify(signed)


@pytest.mark.parametrize(
    "change", [{"cryptosuite": "eddsa-rdfc-2022"}, {"created": "2024-05-01T00:00:00"}]
)
def test_proof_configuration_checks_type_and_created(change: dict[str, Any]) -> None:
    with pytest.raises(ProofVerificationError):
        EddsaJcs2022().configure(_options(**change), {})
