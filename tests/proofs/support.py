"""Shared pieces of the Data Integrity proof tests (vectors are read in place)."""

from __future__ import annotations

from typing import Any

from identity.dids.key import DidKeyResolver, did_from_key
from identity.encoding import multibase_decode
from identity.jsonld import ContextLoader
from identity.keys import Ed25519PrivateKey
from identity.proofs.suites import default_registry
from tests.conftest import vector_json, vector_text

LOADER = ContextLoader()
REGISTRY = default_registry(LOADER)
RESOLVER = DidKeyResolver()
RDFC = REGISTRY.named("DataIntegrityProof", "eddsa-rdfc-2022")

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
CITY = "https://identity-service.example/contexts/city/v1"


def did_key_signer(seed: int | bytes) -> tuple[Ed25519PrivateKey, str, dict[str, Any]]:
    """A did:key agency from ``seed`` (32 bytes, or an int read big-endian): its key, its
    DID and eddsa-jcs-2022 proof options naming its one verification method (the tests'
    and benchmarks' one copy of them)."""
    key = Ed25519PrivateKey(seed if isinstance(seed, bytes) else seed.to_bytes(32, "big"))
    did = "did:key:" + key.public_key().multibase
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": f"{did}#{did[8:]}",
        "proofPurpose": "assertionMethod",
    }
    return key, did, options


def key_from_multibase(private_multibase: str) -> Ed25519PrivateKey:
    secret = multibase_decode(private_multibase)
    assert secret[:2] == b"\x80\x26"  # ed25519-priv multicodec
    return Ed25519PrivateKey(secret[2:])


def vector_key() -> Ed25519PrivateKey:
    return key_from_multibase(vector_json("eddsa-common/keyPair.json")["privateKeyMultibase"])


def canon_text(relative: str) -> str:
    """A published canonical N-Quads file, completed with the final newline that the
    canonical form (and therefore the hash) has but some published files omit."""
    text = vector_text(relative)
    return text if text.endswith("\n") else text + "\n"


def fixed_key() -> tuple[Ed25519PrivateKey, str]:
    """A fixed key and its did:key verification method, for documents we sign ourselves."""
    key = Ed25519PrivateKey(bytes(range(32)))
    did = did_from_key(key.public_key())
    return key, f"{did}#{key.public_key().multibase}"


def options(vm: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-05-01T00:00:00Z",
        "verificationMethod": vm,
        "proofPurpose": "assertionMethod",
        **extra,
    }


def service_credential() -> dict[str, Any]:
    """What the issue flow signs for a bundled type (status entries, schema, validity)."""
    return {
        "@context": [V2, CITY],
        "id": "urn:uuid:0b6c4b0e-8f3b-4b8e-9a59-6c1e4d2f7a10",
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "name": {"@value": "Residence permit", "@language": "en"},
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2031-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:citizen-1",
            "fullName": "Li Lei",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "Xuhui",
            "permitNumber": "SH2026001",
        },
        "credentialSchema": {
            "id": "https://identity-service.example/credential-types/ResidencePermitCredential",
            "type": "JsonSchema",
        },
        "credentialStatus": [
            {
                "id": "https://identity-service.example/status-lists/g1/revocation#42",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "42",
                "statusListCredential": "https://identity-service.example/status-lists/g1/revocation",
            }
        ],
        "relatedResource": [
            {"id": V2, "digestMultibase": "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"}
        ],
    }
