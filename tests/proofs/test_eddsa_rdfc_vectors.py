"""eddsa-rdfc-2022 (EdDSA Cryptosuites §3.2) against the published vectors, step by step,
for the minimal example and the "Enhanced Example" (employ/)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from identity.canonical import rdfc
from identity.encoding import b58_encode, multibase_decode
from identity.errors import ProofVerificationError
from identity.proofs import add_proof, verify_proofs
from tests.conftest import vector_json, vector_text
from tests.proofs.support import LOADER, RDFC, REGISTRY, RESOLVER, canon_text, vector_key

CASES = [
    pytest.param("eddsa-rdfc-2022/", "eddsa-common/unsigned.json", id="alumni"),
    pytest.param("eddsa-rdfc-2022/employ/", "eddsa-common/employmentAuth.json", id="employ"),
]


def _options(folder: str) -> dict[str, Any]:
    options = vector_json(folder + "proofConfigDataInt.json")
    options.pop("@context")  # §3.2.5 puts the document's @context in; the proof has none
    return options


@pytest.mark.parametrize(("folder", "unsigned"), CASES)
def test_transformation_is_rdfc_canonical_nquads_of_the_document(
    folder: str, unsigned: str
) -> None:
    canonical = rdfc(vector_json(unsigned), LOADER)
    assert canonical == canon_text(folder + "canonDocDataInt.txt")
    assert RDFC.transform(vector_json(unsigned)) == canonical.encode()


@pytest.mark.parametrize(("folder", "unsigned"), CASES)
def test_document_hash_covers_the_final_newline(folder: str, unsigned: str) -> None:
    canonical = rdfc(vector_json(unsigned), LOADER)
    assert canonical.endswith(" .\n")
    published = vector_text(folder + "docHashDataInt.txt")
    assert hashlib.sha256(canonical.encode()).hexdigest() == published
    assert hashlib.sha256(canonical.rstrip("\n").encode()).hexdigest() != published


@pytest.mark.parametrize(("folder", "unsigned"), CASES)
def test_proof_configuration_is_rdfc_of_options_under_the_document_context(
    folder: str, unsigned: str
) -> None:
    config = RDFC.configure(_options(folder), vector_json(unsigned))
    assert config.decode() == canon_text(folder + "proofCanonDataInt.txt")
    assert hashlib.sha256(config).hexdigest() == vector_text(folder + "proofHashDataInt.txt")


@pytest.mark.parametrize(("folder", "unsigned"), CASES)
def test_hash_data_is_proof_hash_then_document_hash(folder: str, unsigned: str) -> None:
    document = vector_json(unsigned)
    data = RDFC.hash(RDFC.transform(document), RDFC.configure(_options(folder), document))
    assert data.hex() == vector_text(folder + "combinedHashDataInt.txt")


@pytest.mark.parametrize(("folder", "unsigned"), CASES)
def test_signature_matches_hex_and_base58_vectors(folder: str, unsigned: str) -> None:
    document = vector_json(unsigned)
    data = RDFC.hash(RDFC.transform(document), RDFC.configure(_options(folder), document))
    signature = vector_key().sign(data)
    assert signature.hex() == vector_text(folder + "sigHexDataInt.txt")
    assert "z" + b58_encode(signature) == vector_text(folder + "sigBTC58DataInt.txt")


@pytest.mark.parametrize(("folder", "unsigned"), CASES)
def test_add_proof_recreates_the_signed_vector(folder: str, unsigned: str) -> None:
    signed = add_proof(RDFC, vector_json(unsigned), _options(folder), vector_key())
    assert signed == vector_json(folder + "signedDataInt.json")


@pytest.mark.parametrize(("folder", "unsigned"), CASES)
def test_signed_vector_verifies_through_the_default_registry(folder: str, unsigned: str) -> None:
    signed = vector_json(folder + "signedDataInt.json")
    [result] = verify_proofs(signed, REGISTRY, RESOLVER, purpose="assertionMethod")
    assert result.cryptosuite == "eddsa-rdfc-2022"
    assert multibase_decode(signed["proof"]["proofValue"]).hex() == vector_text(
        folder + "sigHexDataInt.txt"
    )
    assert result.method.id == signed["proof"]["verificationMethod"]


@pytest.mark.parametrize(("folder", "unsigned"), CASES)
def test_changed_claim_fails_verification(folder: str, unsigned: str) -> None:
    signed = copy.deepcopy(vector_json(folder + "signedDataInt.json"))
    signed["name"] = signed["name"] + "!"
    with pytest.raises(ProofVerificationError):
        verify_proofs(signed, REGISTRY, RESOLVER, purpose="assertionMethod")


def test_changed_proof_option_fails_verification() -> None:
    signed = copy.deepcopy(vector_json("eddsa-rdfc-2022/signedDataInt.json"))
    signed["proof"]["created"] = "2023-02-24T23:36:39Z"
    with pytest.raises(ProofVerificationError):
        verify_proofs(signed, REGISTRY, RESOLVER, purpose="assertionMethod")


def test_proof_configuration_rejects_another_cryptosuite() -> None:
    options = {**_options("eddsa-rdfc-2022/"), "cryptosuite": "eddsa-jcs-2022"}
    with pytest.raises(ProofVerificationError):
        RDFC.configure(options, vector_json("eddsa-common/unsigned.json"))


def test_proof_configuration_rejects_created_without_timezone() -> None:
    options = {**_options("eddsa-rdfc-2022/"), "created": "2023-02-24T23:36:38"}
    with pytest.raises(ProofVerificationError, match="dateTimeStamp"):
        RDFC.configure(options, vector_json("eddsa-common/unsigned.json"))


def test_cached_configuration_equals_a_fresh_canonicalization() -> None:
    document = vector_json("eddsa-common/unsigned.json")
    base = _options("eddsa-rdfc-2022/")
    for created in ("2023-02-24T23:36:38Z", "2024-01-01T00:00:00Z", "2023-02-24T23:36:38Z"):
        options = {**base, "created": created}
        fresh = rdfc({**options, "@context": document["@context"]}, LOADER).encode()
        assert RDFC.configure(options, document) == fresh
    assert RDFC.configure(base, document) != RDFC.configure(
        {**base, "created": "2024-01-01T00:00:00Z"}, document
    )
