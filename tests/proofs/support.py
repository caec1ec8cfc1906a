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
