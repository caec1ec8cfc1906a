"""eddsa-jcs-2022 (EdDSA Cryptosuites §3.3) against the published vectors, step by step."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from identity.dids.key import DidKeyResolver
from identity.encoding import multibase_decode
from identity.errors import IdentityError, MalformedProofError, ProofVerificationError
from identity.keys import Ed25519PrivateKey
from identity.proofs import SuiteRegistry, add_proof, verify_proofs
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.conftest import vector_json, vector_text

SUITE = EddsaJcs2022()
REGISTRY = SuiteRegistry([SUITE])


def _key() -> Ed25519PrivateKey:
    secret = multibase_decode(vector_json("eddsa-common/keyPair.json")["privateKeyMultibase"])
    return Ed25519PrivateKey(secret[2:])


def _options() -> dict[str, Any]:
    options = vector_json("eddsa-jcs-2022/proofConfigJCS.json")
    options.pop("@context")
    return options


def test_key_pair_vector_is_consistent() -> None:
    kp = vector_json("eddsa-common/keyPair.json")
    assert _key().public_key().multibase == kp["publicKeyMultibase"]


def test_transformation_is_jcs_of_the_document() -> None:
    unsigned = vector_json("eddsa-common/unsigned.json")
    transformed = SUITE.transform(unsigned)
    assert transformed.decode() == vector_text("eddsa-jcs-2022/canonDocJCS.txt")
    assert hashlib.sha256(transformed).hexdigest() == vector_text("eddsa-jcs-2022/docHashJCS.txt")


def test_proof_configuration_is_jcs_with_the_document_context() -> None:
    # §3.3.1 step 2: our proofs carry the document's @context, so the configuration has it.
    unsigned = vector_json("eddsa-common/unsigned.json")
    config = SUITE.configure(SUITE.proof_options(_options(), unsigned), unsigned)
    assert config.decode() == vector_text("eddsa-jcs-2022/proofCanonJCS.txt")
    assert hashlib.sha256(config).hexdigest() == vector_text("eddsa-jcs-2022/proofHashJCS.txt")


def test_hash_data_is_config_hash_then_document_hash() -> None:
    unsigned = vector_json("eddsa-common/unsigned.json")
    options = SUITE.proof_options(_options(), unsigned)
    data = SUITE.hash(SUITE.transform(unsigned), SUITE.configure(options, unsigned))
    assert data.hex() == vector_text("eddsa-jcs-2022/combinedHashJCS.txt")
    signature = _key().sign(data)
    assert signature.hex() == vector_text("eddsa-jcs-2022/sigHexJCS.txt")


def test_add_proof_reproduces_the_signed_vector_exactly() -> None:
    signed = add_proof(SUITE, vector_json("eddsa-common/unsigned.json"), _options(), _key())
    assert signed == vector_json("eddsa-jcs-2022/signedJCS.json")
    assert signed["proof"]["proofValue"] == vector_text("eddsa-jcs-2022/sigBTC58JCS.txt")


def test_published_signed_credential_verifies_offline() -> None:
    signed = vector_json("eddsa-jcs-2022/signedJCS.json")
    [proof] = verify_proofs(signed, REGISTRY, DidKeyResolver(), purpose="assertionMethod")
    assert proof.controller == "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    assert proof.cryptosuite == "eddsa-jcs-2022"


TAMPERS = {
    "claim": lambda d: d["credentialSubject"].__setitem__("alumniOf", "Other School"),
    "issuer": lambda d: d.__setitem__("issuer", "https://vc.example/issuers/0000"),
    "validFrom": lambda d: d.__setitem__("validFrom", "2023-01-02T00:00:00Z"),
    "context": lambda d: d["@context"].__setitem__(1, "https://w3id.org/citizenship/v4rc1"),
    "context order": lambda d: d["@context"].reverse(),
    "proof.created": lambda d: d["proof"].__setitem__("created", "2023-02-24T23:36:39Z"),
    "proofValue": lambda d: d["proof"].__setitem__(
        "proofValue", d["proof"]["proofValue"][:-2] + "aa"
    ),
    "added member": lambda d: d.__setitem__("name", "Another name"),
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_tampering_with_any_signed_field_fails(field: str) -> None:
    signed = copy.deepcopy(vector_json("eddsa-jcs-2022/signedJCS.json"))
    TAMPERS[field](signed)
    with pytest.raises(IdentityError):
        verify_proofs(signed, REGISTRY, DidKeyResolver(), purpose="assertionMethod")


def test_context_appended_after_signing_is_ignored_as_the_spec_says() -> None:
    """§3.3.2 steps 2-3: the document's @context must *start with* the proof's; the
    proof's @context then replaces it, so an appended entry is not part of what was signed."""
    signed = copy.deepcopy(vector_json("eddsa-jcs-2022/signedJCS.json"))
    signed["@context"].append("https://w3id.org/security/data-integrity/v2")
    [proof] = verify_proofs(signed, REGISTRY, DidKeyResolver(), purpose="assertionMethod")
    assert proof.cryptosuite == "eddsa-jcs-2022"


def test_wrong_proof_purpose_is_refused() -> None:
    signed = vector_json("eddsa-jcs-2022/signedJCS.json")
    with pytest.raises(MalformedProofError):
        verify_proofs(signed, REGISTRY, DidKeyResolver(), purpose="authentication")


@pytest.mark.parametrize("proof", [None, 4, "x", [], [1]])
def test_malformed_proof_members_are_refused(proof: Any) -> None:
    signed = vector_json("eddsa-jcs-2022/signedJCS.json")
    signed["proof"] = proof
    with pytest.raises(MalformedProofError):
        verify_proofs(signed, REGISTRY, DidKeyResolver(), purpose="assertionMethod")


def test_unknown_cryptosuite_is_malformed() -> None:
    signed = vector_json("eddsa-jcs-2022/signedJCS.json")
    signed["proof"]["cryptosuite"] = "ecdsa-jcs-2019"
    with pytest.raises(MalformedProofError):
        verify_proofs(signed, REGISTRY, DidKeyResolver(), purpose="assertionMethod")


def test_signature_by_another_key_fails() -> None:
    other = Ed25519PrivateKey(b"\x01" * 32)
    signed = add_proof(SUITE, vector_json("eddsa-common/unsigned.json"), _options(), other)
    with pytest.raises(ProofVerificationError):
        verify_proofs(signed, REGISTRY, DidKeyResolver(), purpose="assertionMethod")
