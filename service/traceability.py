"""What a party sees of a sharing request: the records, and proof each is in the log.

For every event the answer carries the record, the log entry (leaf) whose
``record_digest`` is SHA-256 of that record's JCS, and an RFC 9162 inclusion proof of
the leaf against one signed checkpoint, so the reader can check, without trusting this
service, that the act is in the public log and unaltered (``identity audit`` checks the
log itself). The proofs are recomputed and checked here before they are handed out.
"""

from __future__ import annotations

from typing import Any

from identity.canonical import parse_json
from identity.clock import xsd_datetime
from identity.directory_store import SharingEvent, SharingRequest
from identity.errors import LogProofError
from identity.log import hashing
from identity.log.checkpoint import SignedCheckpoint
from identity.log.proofs import verify_inclusion
from identity.log.reader import InclusionProof
from identity.registry.sharing import body, record_digest
from service.container import Services


def request_view(request: SharingRequest) -> dict[str, Any]:
    """The request as its parties see it (the citizen, the two agencies)."""
    asked = body(request)
    out: dict[str, Any] = {
        "id": request.id,
        "state": request.state,
        "request": asked,
        "requestDigest": record_digest(asked),
        "events": request.events,
        "created": xsd_datetime(request.created),
        "updated": xsd_datetime(request.updated),
    }
    if request.consent_expires is not None and request.consent is not None:
        out["consentExpires"] = xsd_datetime(request.consent_expires)
    if request.exemption is not None:
        out["exemption"] = parse_json(request.exemption)
    return out


def traced(
    svc: Services, requests: list[SharingRequest], signed: SignedCheckpoint | None = None
) -> dict[str, Any]:
    """Requests with every event and its inclusion proof against one checkpoint."""
    signed = signed or svc.logs.log.checkpoint
    size, root = signed.checkpoint.size, signed.checkpoint.root
    histories = [svc.directory.request_events(r.id) for r in requests]
    integrated = [e.log_index for events in histories for e in events if e.log_index < size]
    leaves = dict(zip(integrated, svc.logs.log.reader.entries(integrated), strict=True))
    proofs = {p.leaf_index: p for p in svc.logs.log.reader.inclusion_proofs(integrated, size)}
    return {
        "checkpoint": signed.note.decode(),
        "treeSize": size,
        "logOrigin": svc.logs.log.origin,
        "agencies": _agency_names(svc, requests),
        "requests": [
            {**request_view(request), "history": [_event(e, leaves, proofs, root) for e in events]}
            for request, events in zip(requests, histories, strict=True)
        ],
    }


def _agency_names(svc: Services, requests: list[SharingRequest]) -> dict[str, str]:
    """The names of the agencies involved, by DID, for people reading the records."""
    names = {}
    for issuer_id in {r.requester for r in requests} | {r.holder for r in requests}:
        issuer = svc.store.get_issuer(issuer_id)
        names[issuer.did] = issuer.name
    return names


def _event(
    event: SharingEvent, leaves: dict[int, bytes], proofs: dict[int, InclusionProof], root: bytes
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": event.kind,
        "time": xsd_datetime(event.time),
        "record": parse_json(event.record),
        "logIndex": event.log_index,
    }
    proof = proofs.get(event.log_index)
    if proof is None:
        return {**out, "integrated": False}
    leaf = leaves[event.log_index]
    leaf_hash = hashing.leaf_hash(leaf)
    if proof.leaf_hash != leaf_hash:
        raise LogProofError("the log's leaf at the recorded index is not this event")
    # Recompute, then compare, before handing the proof out.
    verify_inclusion(event.log_index, proof.tree_size, leaf_hash, proof.path, root)
    return {
        **out,
        "integrated": True,
        "leaf": leaf.decode(),
        "inclusionProof": [h.hex() for h in proof.path],
    }
