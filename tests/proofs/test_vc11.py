"""VC Data Model 1.1 credentials secured with Data Integrity: the data-integrity/v2
context is appended to @context before signing, and the result verifies."""

from __future__ import annotations

from typing import Any

import pytest

from identity.errors import DataLossError
from identity.jsonld import CREDENTIALS_V1, DATA_INTEGRITY_V2
from identity.proofs import add_proof, verify_proofs
from identity.proofs.vc11 import with_data_integrity_context
from tests.proofs.support import RDFC, REGISTRY, RESOLVER, V2, fixed_key, options


def _credential_v11() -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V1],
        "id": "urn:uuid:0b8e7c36-4a4f-4c8e-9d9e-6f1c2b3a4d5e",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:agency",
        "issuanceDate": "2024-01-01T00:00:00Z",
        "expirationDate": "2029-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:citizen"},
    }


def test_context_is_appended_to_a_v11_credential() -> None:
    prepared = with_data_integrity_context(_credential_v11())
    assert prepared["@context"] == [CREDENTIALS_V1, DATA_INTEGRITY_V2]
    assert _credential_v11()["@context"] == [CREDENTIALS_V1]  # the input is not changed


def test_context_given_as_a_string_is_appended_too() -> None:
    credential = {**_credential_v11(), "@context": CREDENTIALS_V1}
    prepared = with_data_integrity_context(credential)
    assert prepared["@context"] == [CREDENTIALS_V1, DATA_INTEGRITY_V2]


def test_v2_and_already_prepared_credentials_are_unchanged() -> None:
    v2 = {**_credential_v11(), "@context": [V2]}
    assert with_data_integrity_context(v2) is v2
    prepared = with_data_integrity_context(_credential_v11())
    assert with_data_integrity_context(prepared) is prepared


def test_v11_credential_is_signed_and_verified_with_eddsa_rdfc_2022() -> None:
    key, vm = fixed_key()
    signed = add_proof(RDFC, with_data_integrity_context(_credential_v11()), options(vm), key)
    assert signed["@context"] == [CREDENTIALS_V1, DATA_INTEGRITY_V2]
    [result] = verify_proofs(signed, REGISTRY, RESOLVER, purpose="assertionMethod")
    assert result.method.id == vm


def test_v11_credential_without_the_context_cannot_be_signed() -> None:
    # The 1.1 context does not define DataIntegrityProof or cryptosuite: data loss.
    key, vm = fixed_key()
    with pytest.raises(DataLossError):
        add_proof(RDFC, _credential_v11(), options(vm), key)
