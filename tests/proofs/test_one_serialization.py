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
from identity.proofs import add_proof
from tests.proofs.support import REGISTRY, RESOLVER, did_key_signer, service_credential


def signed() -> dict[str, Any]:
    key, did, options = did_key_signer(b"\x05" * 32)
    suite = REGISTRY.named("DataIntegrityProof", "eddsa-jcs-2022")
    return add_proof(suite, {**service_credential(), "issuer": did}, options, key)


def test_the_anchor_digest_is_the_reference_digest_and_each_form_is_serialized_once() -> None:
    document = signed()
    seen: list[Verified] = []
    serialized: list[Any] = []
    original = members.jcs

    def counting(value: Any) -> bytes:
        serialized.append(value)
        return original(value)

    def capture(verified: Verified, _: dict[str, Any]) -> dict[str, Any]:
        seen.append(verified)
        return {}

    verifier = Verifier(
        REGISTRY, RESOLVER, FixedClock(datetime(2026, 6, 1, tzinfo=UTC)), [("capture", capture)]
    )
    members.jcs = counting  # type: ignore[assignment]
    try:
        verifier.verify(document)
        digest = seen[0].credential_digest()
        again = seen[0].credential_digest()
    finally:
        members.jcs = original  # type: ignore[assignment]
    assert digest == again == hashlib.sha256(jcs_reference(document)).digest()
    assert digest == credential_digest(document)
    # Two serializations through the request's CanonicalObject: the unsecured document
    # (for the proof) and the whole credential (for the anchor), the second made once
    # although the digest was asked for twice.
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    assert serialized == [unsecured, document]
