"""DIDs: parsing, the methods this service resolves, and verification-method lookup.

A resolver turns a DID into a DID document (DID Core §7.1) and a DID URL naming a
verification method into a :class:`VerificationMethod` the proof code can trust.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from identity.errors import InvalidDidError, InvalidVerificationMethodError
from identity.keys import Ed25519PublicKey

# DID Core §3.1 ABNF: did = "did:" method-name ":" method-specific-id
DID_RE = re.compile(
    r"^did:([a-z0-9]+):((?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}))$"
)

PURPOSES = frozenset(
    {"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"}
)


def parse_did(did: str) -> tuple[str, str]:
    """Split a DID into (method, method-specific-id); raise :class:`InvalidDidError`."""
    if not isinstance(did, str):
        raise InvalidDidError("a DID must be a string")
    match = DID_RE.match(did)
    if match is None:
        raise InvalidDidError(f"not a DID: {did[:100]!r}", did=did[:100])
    return match.group(1), match.group(2)


@dataclass(frozen=True, slots=True)
class VerificationMethod:
    """A key a DID controller authorised for some proof purposes."""

    id: str
    controller: str
    public_key: Ed25519PublicKey
    type: str = "Multikey"
    purposes: frozenset[str] = field(default_factory=frozenset)

    def require(self, purpose: str) -> None:
        """Return if the DID document lists this method under ``purpose`` (a verification
        relationship, DID Core §5.3); else :class:`InvalidVerificationMethodError` naming the
        method and the purpose."""
        if purpose not in self.purposes:
            raise InvalidVerificationMethodError(
                f"verification method is not authorised for {purpose}",
                verificationMethod=self.id,
                proofPurpose=purpose,
            )


@dataclass(frozen=True, slots=True)
class Resolution:
    """DID Resolution result (DID Resolution §4): document plus metadata."""

    did_document: dict[str, Any]
    document_metadata: dict[str, Any] = field(default_factory=dict)
    resolution_metadata: dict[str, Any] = field(default_factory=dict)


class DidResolver(Protocol):
    """What every DID method's resolver offers: the document for a DID, and the verification
    method a proof names, checked against its purposes by the caller."""

    def resolve(self, did: str) -> Resolution:
        """Resolve ``did``; raise InvalidDidError / NotFoundError."""
        ...

    def verification_method(self, url: str, at: datetime | None = None) -> VerificationMethod:
        """Dereference a verification-method DID URL (``did:…#fragment``).

        ``at`` is when the proof says it was made (``proof.created``): a method whose
        DID history is known answers with the key that was valid then, and refuses a
        key that was not (rotated out, or the DID deactivated). ``None`` means now.
        """
        ...


def methods_from_document(document: dict[str, Any]) -> dict[str, VerificationMethod]:
    """Collect the Ed25519 verification methods of a DID document with their purposes."""
    did = document.get("id")
    embedded: dict[str, dict[str, Any]] = {}
    for vm in document.get("verificationMethod", []):
        if isinstance(vm, dict) and isinstance(vm.get("id"), str):
            embedded[_absolute(vm["id"], did)] = vm
    purposes: dict[str, set[str]] = {key: set() for key in embedded}
    for purpose in PURPOSES:
        for ref in document.get(purpose, []):
            if isinstance(ref, str):
                purposes.setdefault(_absolute(ref, did), set()).add(purpose)
            elif isinstance(ref, dict) and isinstance(ref.get("id"), str):
                key = _absolute(ref["id"], did)
                embedded[key] = ref
                purposes.setdefault(key, set()).add(purpose)
    out: dict[str, VerificationMethod] = {}
    for key, vm in embedded.items():
        public = _public_key(vm)
        if public is not None:
            out[key] = VerificationMethod(
                id=key,
                controller=str(vm.get("controller", did)),
                public_key=public,
                type=str(vm.get("type", "")),
                purposes=frozenset(purposes.get(key, set())),
            )
    return out


def _absolute(ref: str, did: Any) -> str:
    return f"{did}{ref}" if ref.startswith("#") else ref


def _public_key(vm: dict[str, Any]) -> Ed25519PublicKey | None:
    if vm.get("type") in ("Multikey", "Ed25519VerificationKey2020"):
        value = vm.get("publicKeyMultibase")
        if isinstance(value, str):
            return Ed25519PublicKey.from_multibase(value)
    return None
