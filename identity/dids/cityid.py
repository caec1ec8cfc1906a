"""``did:cityid``: DIDs whose history is a chain of signed operations in this service's log.

The method specification is in the README ("The did:cityid method"). In short:

* **Create.** The controller picks keys and signs ``{"type": "create", "document": …}``
  with one of them (eddsa-jcs-2022, ``proofPurpose: capabilityInvocation``). The DID is
  ``did:cityid:`` + base58btc(SHA-256(JCS(operation without ``proof``))), so nobody can
  claim a DID for keys they do not hold, and the same operation always names the same DID.
* **Update.** ``{"type": "update", "did", "previous", "document"}`` replaces the document;
  ``previous`` is the digest of the operation it follows (so it applies once, on top of
  that version only) and the proof must come from a ``capabilityInvocation`` key of the
  *current* document -- a rotated-out key can no longer update.
* **Deactivate.** ``{"type": "deactivate", "did", "previous"}``, signed the same way; final.

An operation's digest is SHA-256 of the JCS of the whole signed operation. Everything
here is pure: :func:`apply` checks one operation against the state before it and returns
the state after it; the resolver replays stored operations through it.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity.canonical import jcs
from identity.dids import PURPOSES, Resolution, VerificationMethod, methods_from_document
from identity.encoding import b58_encode
from identity.errors import (
    ConflictError,
    InvalidDidError,
    InvalidVerificationMethodError,
    MalformedValueError,
)
from identity.keys import Ed25519PrivateKey, Ed25519PublicKey
from identity.proofs import SuiteRegistry, add_proof, verify_proofs
from identity.proofs.eddsa_jcs import EddsaJcs2022

METHOD = "cityid"
PREFIX = f"did:{METHOD}:"
CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
MAX_METHODS = 8
MAX_SERVICES = 8
_MEMBERS = {
    "create": {"type", "document", "nonce", "proof"},
    "update": {"type", "did", "previous", "document", "proof"},
    "deactivate": {"type", "did", "previous", "proof"},
}
_DOCUMENT_MEMBERS = PURPOSES | {"verificationMethod", "service"}
_SUITES = SuiteRegistry([EddsaJcs2022()])

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DidState:
    """A DID after some operations: what resolution returns for that version."""

    did: str
    document: Json
    version: int
    """How many operations made this state: 1 after the create."""
    created: datetime
    updated: datetime
    deactivated: bool
    last_digest: str
    log_index: int

    def method(self, url: str) -> VerificationMethod:
        """The verification method ``url`` of this version, or raise."""
        if self.deactivated:
            raise InvalidVerificationMethodError("the DID is deactivated", did=self.did)
        method = methods_from_document(self.document).get(url)
        if method is None:
            raise InvalidVerificationMethodError(
                "not a verification method of this DID version (rotated out?)",
                verificationMethod=url[:200],
                versionId=str(self.version),
            )
        return method


def digest(value: Json) -> str:
    """``sha256:<hex>`` of the JCS of ``value`` (operations, documents)."""
    return "sha256:" + hashlib.sha256(jcs(value)).hexdigest()


def did_of(create: Json) -> str:
    """The DID a create operation names: hash of the operation without its proof."""
    unsigned = {k: v for k, v in create.items() if k != "proof"}
    return PREFIX + b58_encode(hashlib.sha256(jcs(unsigned)).digest())


def apply(state: DidState | None, operation: Any, time: datetime, log_index: int) -> DidState:
    """Check ``operation`` against ``state`` (None before the create) and return the next
    state, or raise. ``time`` and ``log_index`` are those of the operation's log entry."""
    kind = _shape(operation)
    if kind == "create":
        if state is not None:
            raise ConflictError("this DID already exists", did=state.did)
        did = did_of(operation)
        document = build_document(did, operation["document"])
        _check_signature(operation, document)
        return DidState(did, document, 1, time, time, False, digest(operation), log_index)
    if state is None:
        raise InvalidDidError("no such DID", did=str(operation["did"])[:200])
    if operation["did"] != state.did:
        raise MalformedValueError("the operation names another DID", field="did")
    if state.deactivated:
        raise ConflictError("the DID is deactivated; it accepts no more operations")
    if operation["previous"] != state.last_digest:
        raise ConflictError(
            "previous is not the DID's latest operation (stale or replayed)",
            did=state.did,
            versionId=str(state.version),
        )
    _check_signature(operation, state.document)
    document = (
        {"@context": CONTEXT, "id": state.did}
        if kind == "deactivate"
        else build_document(state.did, operation["document"])
    )
    return DidState(
        state.did,
        document,
        state.version + 1,
        state.created,
        time,
        kind == "deactivate",
        digest(operation),
        log_index,
    )


def _shape(operation: Any) -> str:
    if not isinstance(operation, dict):
        raise MalformedValueError("a DID operation is a JSON object")
    kind = operation.get("type")
    if kind not in _MEMBERS:
        raise MalformedValueError("type must be create, update or deactivate", field="type")
    if extra := set(operation) - _MEMBERS[kind]:
        raise MalformedValueError(f"{kind} does not take {sorted(extra)}", field=sorted(extra)[0])
    required = _MEMBERS[kind] - {"nonce"}
    if missing := required - set(operation):
        raise MalformedValueError(f"{kind} needs {sorted(missing)}", field=sorted(missing)[0])
    for name in ("did", "previous", "nonce"):
        if name in operation and not isinstance(operation[name], str):
            raise MalformedValueError(f"{name} must be a string", field=name)
    if not isinstance(operation["proof"], dict):
        raise MalformedValueError("an operation carries exactly one proof", field="proof")
    return str(kind)


def _check_signature(operation: Json, document: Json) -> None:
    """The one proof must verify under a capabilityInvocation key of ``document``."""
    verify_proofs(operation, _SUITES, _DocumentKeys(document), purpose="capabilityInvocation")


class _DocumentKeys:
    """A resolver over one DID document: the keys allowed to sign an operation."""

    def __init__(self, document: Json) -> None:
        self._methods = methods_from_document(document)

    def verification_method(self, url: str, at: datetime | None = None) -> VerificationMethod:
        method = self._methods.get(url) if isinstance(url, str) else None
        if method is None:
            raise InvalidVerificationMethodError(
                "the operation is not signed by a key of the DID's current document",
                verificationMethod=str(url)[:200],
            )
        return method

    def resolve(self, did: str) -> Resolution:
        raise NotImplementedError  # verify_proofs only dereferences methods


def build_document(did: str, body: Any) -> Json:
    """The DID document an operation's ``document`` member sets, with absolute ids.

    Only Ed25519 ``Multikey`` methods (ids ``#fragment``); purposes refer to them; at
    least one ``capabilityInvocation`` key, or the DID could never be updated again.
    """
    if not isinstance(body, dict) or set(body) - _DOCUMENT_MEMBERS:
        raise MalformedValueError(
            f"document takes only {sorted(_DOCUMENT_MEMBERS)}", field="document"
        )
    methods = body.get("verificationMethod")
    if not isinstance(methods, list) or not 0 < len(methods) <= MAX_METHODS:
        raise MalformedValueError(
            f"document.verificationMethod: 1 to {MAX_METHODS} keys", field="verificationMethod"
        )
    document: Json = {"@context": CONTEXT, "id": did, "verificationMethod": []}
    ids: set[str] = set()
    for method in methods:
        vm = _method(did, method)
        if vm["id"] in ids:
            raise MalformedValueError("verification method ids must be unique", id=vm["id"])
        ids.add(vm["id"])
        document["verificationMethod"].append(vm)
    for purpose in sorted(PURPOSES):
        refs = body.get(purpose)
        if refs is None:
            continue
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise MalformedValueError(f"{purpose} is a list of #fragments", field=purpose)
        absolute = [did + r if r.startswith("#") else r for r in refs]
        if unknown := [r for r in absolute if r not in ids]:
            raise MalformedValueError(f"{purpose} names unknown keys", field=purpose, ids=unknown)
        document[purpose] = absolute
    if not document.get("capabilityInvocation"):
        raise MalformedValueError(
            "at least one capabilityInvocation key is needed to update the DID",
            field="capabilityInvocation",
        )
    if "service" in body:
        document["service"] = _services(did, body["service"])
    return document


def _method(did: str, method: Any) -> Json:
    if not isinstance(method, dict) or set(method) - {"id", "type", "publicKeyMultibase"}:
        raise MalformedValueError("a verification method has id, type, publicKeyMultibase")
    fragment, key = method.get("id"), method.get("publicKeyMultibase")
    if not isinstance(fragment, str) or not fragment.startswith("#") or len(fragment) > 64:
        raise MalformedValueError("verification method ids are #fragments", field="id")
    if method.get("type") != "Multikey" or not isinstance(key, str):
        raise MalformedValueError("only Ed25519 Multikey methods", field="type")
    Ed25519PublicKey.from_multibase(key)  # raises on a bad key
    return {"id": did + fragment, "type": "Multikey", "controller": did, "publicKeyMultibase": key}


def _services(did: str, services: Any) -> list[Json]:
    if not isinstance(services, list) or len(services) > MAX_SERVICES:
        raise MalformedValueError(f"service: at most {MAX_SERVICES} entries", field="service")
    out = []
    for service in services:
        if (
            not isinstance(service, dict)
            or set(service) != {"id", "type", "serviceEndpoint"}
            or not all(isinstance(v, str) for v in service.values())
            or not service["id"].startswith("#")
            or not service["serviceEndpoint"].startswith("https://")
        ):
            raise MalformedValueError(
                "a service is {id: #fragment, type, serviceEndpoint: https URL}", field="service"
            )
        out.append({**service, "id": did + service["id"]})
    return out


# -- the controller's side: making signed operations --------------------------------------


def key_body(public_key: Ed25519PublicKey, fragment: str = "#key-1") -> Json:
    """The simplest document body: one key for every purpose."""
    return {
        "verificationMethod": [
            {"id": fragment, "type": "Multikey", "publicKeyMultibase": public_key.multibase}
        ],
        **{purpose: [fragment] for purpose in sorted(PURPOSES)},
    }


def create_operation(key: Ed25519PrivateKey, body: Json | None = None, nonce: str = "") -> Json:
    """A signed create operation; ``body`` defaults to :func:`key_body` of ``key``."""
    operation: Json = {"type": "create", "document": body or key_body(key.public_key())}
    if nonce:
        operation["nonce"] = nonce
    did = did_of(operation)
    fragment = _fragment_of(build_document(did, operation["document"]), key)
    return sign_operation(operation, key, did + fragment)


def update_operation(key: Ed25519PrivateKey, method: str, state: DidState, body: Json) -> Json:
    """A signed update of ``state`` to ``body``, by verification method ``method``."""
    operation = {"type": "update", "did": state.did, "previous": state.last_digest}
    return sign_operation({**operation, "document": body}, key, method)


def deactivate_operation(key: Ed25519PrivateKey, method: str, state: DidState) -> Json:
    """A signed deactivate of ``state``, by verification method ``method`` (a
    capabilityInvocation key of the current document); after it the DID takes no more
    operations and its keys verify no proof made after it."""
    operation = {"type": "deactivate", "did": state.did, "previous": state.last_digest}
    return sign_operation(operation, key, method)


def sign_operation(operation: Json, key: Ed25519PrivateKey, method: str) -> Json:
    """Add the eddsa-jcs-2022 capabilityInvocation proof an operation needs."""
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "proofPurpose": "capabilityInvocation",
        "verificationMethod": method,
    }
    return add_proof(EddsaJcs2022(), copy.deepcopy(operation), options, key)


def _fragment_of(document: Json, key: Ed25519PrivateKey) -> str:
    public = key.public_key().multibase
    for vm in document["verificationMethod"]:
        if vm["publicKeyMultibase"] == public:
            return str(vm["id"]).removeprefix(document["id"])
    raise MalformedValueError("the signing key is not in the document")
