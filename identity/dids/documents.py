"""Checks of a DID document obtained from outside (a did:web host, say).

The core reads documents with :func:`identity.dids.methods_from_document`, which skips
what it does not understand; a document fetched from the network is first held to the
DID Core shapes it relies on, so a malformed one is refused by name instead.
"""

from __future__ import annotations

from typing import Any

from identity.dids import PURPOSES
from identity.errors import InvalidDidDocumentError


def checked_document(document: Any, did: str, url: str) -> dict[str, Any]:
    """The shapes the rest of the core relies on (DID Core §5); else InvalidDidDocumentError."""
    if not isinstance(document, dict):
        raise InvalidDidDocumentError("a DID document must be a JSON object", url=url)
    if document.get("id") != did:
        # DID Core §5.1.1: the id of the resolved document MUST match the DID resolved.
        raise InvalidDidDocumentError(
            "the DID document's id is not the DID that was resolved", did=did, url=url
        )
    context = document.get("@context", [])
    if not isinstance(context, str | list):
        raise InvalidDidDocumentError("@context must be a string or an array", url=url)
    controller = document.get("controller", [])
    if not isinstance(controller, str | list) or not all(isinstance(c, str) for c in controller):
        raise InvalidDidDocumentError("controller must be a DID or an array of DIDs", url=url)
    for member in ("verificationMethod", "alsoKnownAs", *sorted(PURPOSES), "keyAgreement"):
        value = document.get(member, [])
        if not isinstance(value, list) or not all(_entry_ok(member, item) for item in value):
            raise InvalidDidDocumentError(
                f"{member} must be an array of well-formed entries", member=member, url=url
            )
    return document


def _entry_ok(member: str, item: Any) -> bool:
    """DID Core §5.1.3 (alsoKnownAs: URIs), §5.2 (a method has id, type, controller),
    §5.3 (a relationship entry is a reference or an embedded method)."""
    if member == "alsoKnownAs" or isinstance(item, str):
        return isinstance(item, str) and member != "verificationMethod"
    return isinstance(item, dict) and all(
        isinstance(item.get(k), str) for k in ("id", "type", "controller")
    )
