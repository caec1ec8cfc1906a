"""Ed25519Signature2020 (EdDSA Cryptosuites, Appendix "Representation: Ed25519Signature2020")
against its published vectors; verification with a did:key that resolves to Multikey."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from identity.encoding import b58_encode
from identity.errors import ProofVerificationError
from identity.proofs import add_proof, verify_proofs
from tests.conftest import vector_json, vector_text
from tests.proofs.support import LOADER, REGISTRY, RESOLVER, canon_text, vector_key

SUITE = REGISTRY.named("Ed25519Signature2020", None)
DIR = "ed25519signature2020/"


def _document() -> dict[str, Any]:
    signed = vector_json(DIR + "signedEdSig.json")
    signed.pop("proof")
    return signed


def _options() -> dict[str, Any]:
    options = vector_json(DIR + "proofConfigEdSig.json")
    options.pop("@context")
    return options


def test_registry_finds_the_legacy_suite_by_type_alone() -> None:
    assert REGISTRY.for_proof({"type": "Ed25519Signature2020"}) is SUITE
    assert SUITE.cryptosuite is None
    assert LOADER.urls >= {"https://w3id.org/security/suites/ed25519-2020/v1"}


def test_document_canonical_form_and_hash() -> None:
    transformed = SUITE.transform(_document())
    assert transformed.decode() == canon_text(DIR + "canonDocEdSig.txt")
    assert hashlib.sha256(transformed).hexdigest() == vector_text(DIR + "docHashEdSig.txt")


def test_proof_configuration_canonical_form_and_hash() -> None:
    config = SUITE.configure(_options(), _document())
    assert config.decode() == canon_text(DIR + "proofCanonEdSig.txt")
    assert hashlib.sha256(config).hexdigest() == vector_text(DIR + "proofHashEdSig.txt")


def test_combined_hash_and_signature() -> None:
    data = SUITE.hash(SUITE.transform(_document()), SUITE.configure(_options(), _document()))
    assert data.hex() == vector_text(DIR + "combinedHashEdSig.txt")
    signature = vector_key().sign(data)
    assert signature.hex() == vector_text(DIR + "sigHexEdSig.txt")
    assert "z" + b58_encode(signature) == vector_text(DIR + "sigBTC58EdSig.txt")


def test_add_proof_recreates_the_signed_vector() -> None:
    assert add_proof(SUITE, _document(), _options(), vector_key()) == vector_json(
        DIR + "signedEdSig.json"
    )


def test_signed_vector_verifies_with_a_multikey_verification_method() -> None:
    [result] = verify_proofs(
        vector_json(DIR + "signedEdSig.json"), REGISTRY, RESOLVER, purpose="assertionMethod"
    )
    assert result.cryptosuite == "Ed25519Signature2020"
    # The suite names Ed25519VerificationKey2020; did:key gives Multikey with the same key.
    assert result.method.type == "Multikey"
    assert result.method.public_key == vector_key().public_key()


def test_tampered_document_fails() -> None:
    signed = copy.deepcopy(vector_json(DIR + "signedEdSig.json"))
    signed["credentialSubject"]["alumniOf"] = "Another School"
    with pytest.raises(ProofVerificationError):
        verify_proofs(signed, REGISTRY, RESOLVER, purpose="assertionMethod")


def test_document_without_the_suite_context_is_refused() -> None:
    signed = copy.deepcopy(vector_json(DIR + "signedEdSig.json"))
    signed["@context"] = signed["@context"][:2]
    with pytest.raises(ProofVerificationError, match="ed25519-2020"):
        verify_proofs(signed, REGISTRY, RESOLVER, purpose="assertionMethod")
