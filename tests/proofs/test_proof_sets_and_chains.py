"""Proof sets and proof chains (VC-DI §2.1.2, §2.1.3, §4.5, §4.6) with the EdDSA
"Proof Sets and Chains" vectors: each signed document verifies, and, Ed25519 being
deterministic, each is re-created byte for byte from the previous one."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from identity.errors import MalformedProofError, ProofVerificationError
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof, verify_proofs
from tests.conftest import vector_json
from tests.proofs.support import RDFC, REGISTRY, RESOLVER, key_from_multibase

DIR = "eddsa-proof-set-chain/"

# (signed document, the document it was made from, its proof options, key pair number)
STEPS = [
    ("signedProofSet1.json", "unsigned.json", "proofSetConfig1.json", 1),
    ("signedProofSet2.json", "signedProofSet1.json", "proofSetConfig2.json", 2),
    ("signedProofChain1.json", "signedProofSet2.json", "proofChainConfig1.json", 3),
    ("signedProofChain2.json", "signedProofChain1.json", "proofChainConfig2.json", 4),
]


def _key(number: int) -> Ed25519PrivateKey:
    pairs = vector_json(DIR + "multiKeyPairs.json")
    key = key_from_multibase(pairs[f"keyPair{number}"]["privateKeyMultibase"])
    assert key.public_key().multibase == pairs[f"keyPair{number}"]["publicKeyMultibase"]
    return key


def _verify(document: dict[str, Any]) -> list[str]:
    results = verify_proofs(document, REGISTRY, RESOLVER, purpose="assertionMethod")
    return [r.method.public_key.multibase for r in results]


@pytest.mark.parametrize(("signed", "source", "config", "number"), STEPS)
def test_signed_vector_verifies_every_proof(
    signed: str, source: str, config: str, number: int
) -> None:
    keys = _verify(vector_json(DIR + signed))
    assert keys == [_key(n).public_key().multibase for n in range(1, number + 1)]


@pytest.mark.parametrize(("signed", "source", "config", "number"), STEPS)
def test_add_proof_recreates_the_signed_vector(
    signed: str, source: str, config: str, number: int
) -> None:
    made = add_proof(RDFC, vector_json(DIR + source), vector_json(DIR + config), _key(number))
    assert made == vector_json(DIR + signed)


def test_chained_proof_signs_the_proofs_it_names() -> None:
    # The third proof's previousProof names the first two; altering one breaks the third
    # proof as well as the altered one.
    document = copy.deepcopy(vector_json(DIR + "signedProofChain1.json"))
    chained = document["proof"][2]
    only_chain = {**document, "proof": [document["proof"][0], document["proof"][1], chained]}
    assert len(_verify(only_chain)) == 3
    document["proof"][1]["created"] = "2023-02-24T23:36:39Z"
    with pytest.raises(ProofVerificationError):
        verify_proofs(
            {**document, "proof": [document["proof"][0], chained, document["proof"][1]]},
            REGISTRY,
            RESOLVER,
            purpose="assertionMethod",
        )


def test_chain_whose_previous_proof_was_removed_is_rejected() -> None:
    document = copy.deepcopy(vector_json(DIR + "signedProofChain2.json"))
    del document["proof"][2]  # the proof that the fourth one chains to
    with pytest.raises(ProofVerificationError, match="previousProof"):
        verify_proofs(document, REGISTRY, RESOLVER, purpose="assertionMethod")


def test_proof_set_with_duplicate_proof_ids_is_malformed() -> None:
    document = copy.deepcopy(vector_json(DIR + "signedProofChain1.json"))
    document["proof"][1]["id"] = document["proof"][0]["id"]
    with pytest.raises(MalformedProofError, match="unique"):
        verify_proofs(document, REGISTRY, RESOLVER, purpose="assertionMethod")


def test_proof_of_a_set_signs_the_document_without_the_other_proofs() -> None:
    # Dropping one member of a set leaves the other verifying on its own.
    document = copy.deepcopy(vector_json(DIR + "signedProofSet2.json"))
    document["proof"] = document["proof"][1]
    assert _verify(document) == [_key(2).public_key().multibase]
