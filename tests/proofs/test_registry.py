"""default_registry: the three suites, and eddsa-jcs-2022 end to end through it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from identity.errors import MalformedProofError, ProofVerificationError
from identity.proofs import add_proof, verify_proofs
from tests.conftest import vector_json
from tests.proofs.support import REGISTRY, RESOLVER, vector_key


def test_registry_holds_rdfc_jcs_and_ed25519signature2020() -> None:
    assert REGISTRY.names() == ["None", "eddsa-jcs-2022", "eddsa-rdfc-2022"]
    assert REGISTRY.named("Ed25519Signature2020", None).proof_type == "Ed25519Signature2020"
    assert REGISTRY.named("DataIntegrityProof", "eddsa-jcs-2022").cryptosuite == "eddsa-jcs-2022"


def test_unknown_cryptosuite_is_a_malformed_proof() -> None:
    with pytest.raises(MalformedProofError, match="ecdsa-rdfc-2019"):
        REGISTRY.for_proof({"type": "DataIntegrityProof", "cryptosuite": "ecdsa-rdfc-2019"})


def _jcs_options() -> dict[str, Any]:
    options = vector_json("eddsa-jcs-2022/proofConfigJCS.json")
    options.pop("@context")
    return options


def test_eddsa_jcs_vector_is_recreated_and_verified_through_the_registry() -> None:
    suite = REGISTRY.for_proof(_jcs_options())
    unsigned = vector_json("eddsa-common/unsigned.json")
    signed = add_proof(suite, unsigned, _jcs_options(), vector_key())
    assert signed == vector_json("eddsa-jcs-2022/signedJCS.json")
    [result] = verify_proofs(signed, REGISTRY, RESOLVER, purpose="assertionMethod")
    assert result.cryptosuite == "eddsa-jcs-2022"


def test_eddsa_jcs_vector_with_a_changed_value_fails() -> None:
    signed = copy.deepcopy(vector_json("eddsa-jcs-2022/signedJCS.json"))
    signed["validFrom"] = "2023-01-01T00:00:01Z"
    with pytest.raises(ProofVerificationError):
        verify_proofs(signed, REGISTRY, RESOLVER, purpose="assertionMethod")
