"""One canonical serialization per verify: the JCS members the proof check serialized
are the bytes whose digest finds the anchor, and they equal the reference JCS."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import identity.canonical.members as members
from identity.canonical import jcs_reference
from identity.clock import FixedClock
from identity.credentials.issuer import credential_digest
from identity.credentials.verifier import Verified, Verifier
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof
from tests.proofs.support import REGISTRY, RESOLVER, service_credential


def signed() -> dict[str, Any]:
    key = Ed25519PrivateKey(b"\x05" * 32)
    did = "did:key:" + key.public_key().multibase
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": f"{did}#{did[8:]}",
        "proofPurpose": "assertionMethod",
    }
    suite = REGISTRY.named("DataIntegrityProof", "eddsa-jcs-2022")
    return add_proof(suite, {**service_credential(), "issuer": did}, options, key)


def test_the_anchor_digest_is_the_reference_digest_from_the_proof_checks_members() -> None:
    document = signed()
    seen: list[Verified] = []
    serialized: list[str] = []
    original = members.CanonicalObject.member

    def counting(self: members.CanonicalObject, key: str, value: Any) -> bytes:
        serialized.append(key)
        return original(self, key, value)

    def capture(verified: Verified, _: dict[str, Any]) -> dict[str, Any]:
        seen.append(verified)
        return {}

    verifier = Verifier(
        REGISTRY, RESOLVER, FixedClock(datetime(2026, 6, 1, tzinfo=UTC)), [("capture", capture)]
    )
    members.CanonicalObject.member = counting  # type: ignore[method-assign]
    try:
        verifier.verify(document)
        digest = seen[0].credential_digest()
    finally:
        members.CanonicalObject.member = original  # type: ignore[method-assign]
    assert digest == hashlib.sha256(jcs_reference(document)).digest()
    assert digest == credential_digest(document)
    # Every member of the unsecured document, then the whole credential: each member's
    # bytes came from the cache the second time (asked for again, computed once).
    cached = seen[0].canonical
    assert cached is not None
    assert sorted(cached._members) == sorted(document)
    assert sorted(serialized) == sorted([*[k for k in document if k != "proof"], *document])
