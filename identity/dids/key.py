"""The did:key method (W3C CCG did:key v0.9), Ed25519 only.

``did:key:z6Mk…`` is ``"did:key:"`` + multibase(base58btc, 0xed01 ‖ raw public key). The
DID document is *derived* from the key by the Document Creation Algorithm (§3.1.1): one
Multikey verification method whose fragment is the method-specific id, referenced by
every verification relationship, plus (optionally) an X25519 key-agreement key derived
from the Ed25519 key (§3.1.2 "enableEncryptionKeyDerivation").
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import nacl.bindings as sodium

from identity.dids import Resolution, VerificationMethod, methods_from_document, parse_did
from identity.encoding import ED25519_PUB_PREFIX, b58_decode, multibase_encode
from identity.errors import InvalidDidError, MalformedValueError
from identity.keys import Ed25519PublicKey

X25519_PUB_PREFIX = b"\xec\x01"
CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityDelegation",
    "capabilityInvocation",
)


def did_from_key(public_key: Ed25519PublicKey) -> str:
    """The did:key of an Ed25519 public key: ``did:key:z6Mk…`` (its Multikey multibase)."""
    return "did:key:" + public_key.multibase


def key_from_did(did: str) -> Ed25519PublicKey:
    """Decode a did:key; raise :class:`InvalidDidError` for anything but an Ed25519 key."""
    method, msid = parse_did(did)
    if method != "key":
        raise InvalidDidError("not a did:key", did=did[:100])
    if not msid.startswith("z"):
        raise InvalidDidError("did:key must be base58btc multibase ('z')", did=did[:100])
    try:
        data = b58_decode(msid[1:])
    except MalformedValueError as exc:
        raise InvalidDidError("did:key is not valid base58btc", did=did[:100]) from exc
    if not data.startswith(ED25519_PUB_PREFIX):
        raise InvalidDidError("did:key is not an ed25519-pub (0xed01) key", did=did[:100])
    if len(data) != len(ED25519_PUB_PREFIX) + 32:
        raise InvalidDidError("did:key Ed25519 key must be 32 bytes", did=did[:100])
    return Ed25519PublicKey(data[len(ED25519_PUB_PREFIX) :])


def did_document(did: str, *, encryption_key_derivation: bool = True) -> dict[str, Any]:
    """Build the DID document (did:key §3.1.1, publicKeyFormat=Multikey)."""
    public = key_from_did(did)
    msid = public.multibase
    vm_id = f"{did}#{msid}"
    doc: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": msid}
        ],
    }
    for rel in RELATIONSHIPS:
        doc[rel] = [vm_id]
    if encryption_key_derivation:
        x_pub = sodium.crypto_sign_ed25519_pk_to_curve25519(public.raw)
        x_mb = multibase_encode(X25519_PUB_PREFIX + x_pub)
        doc["keyAgreement"] = [
            {
                "id": f"{did}#{x_mb}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": x_mb,
            }
        ]
    return doc


class DidKeyResolver:
    """Resolves did:key offline: the document is computed, never fetched."""

    def resolve(self, did: str) -> Resolution:
        """The did:key document computed from the DID itself (no I/O); :class:`InvalidDidError`
        for anything but an Ed25519 did:key."""
        return Resolution(
            did_document=did_document(did),
            resolution_metadata={"contentType": "application/did+ld+json"},
        )

    def verification_method(self, url: str, at: datetime | None = None) -> VerificationMethod:
        """A did:key never changes, so ``at`` does not matter."""
        return _verification_method(url)


@functools.lru_cache(maxsize=4096)
def _verification_method(url: str) -> VerificationMethod:
    """A pure function of the DID URL, so cached (the result is immutable)."""
    did, _, fragment = url.partition("#")
    document = did_document(did, encryption_key_derivation=False)
    methods = methods_from_document(document)
    key = f"{did}#{fragment}" if fragment else document["verificationMethod"][0]["id"]
    if key not in methods:
        raise InvalidDidError(
            "did:key verification method fragment does not match the key", url=url[:200]
        )
    return methods[key]
