"""did:cityid operations: create, update, deactivate -- each a log entry, then stored.

Operations are self-authenticating (signed by the DID's own keys), so no account is
needed; anonymous callers are rate-limited like anonymous verification.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from identity.canonical import jcs, parse_json
from identity.dids.cityid import DidState, apply, did_of, digest
from identity.dids.cityid_resolver import document_metadata
from identity.directory_store import DidOperationRecord
from identity.errors import ConflictError, MalformedValueError
from schemas.directory import DidOperation
from service.container import Services, Svc, read_json, require_object
from service.log import receipt_json
from service.routers import body_schema

router = APIRouter(tags=["dids"])


@router.post("/dids", status_code=201, openapi_extra=body_schema(DidOperation))
async def create_did(request: Request, svc: Svc) -> JSONResponse:
    """Register a did:cityid from its self-signed create operation."""
    svc.limit_anonymous(request)
    operation = require_object(await read_json(request), "body")
    if operation.get("type") != "create":
        raise MalformedValueError("POST /dids takes a create operation", field="type")
    did = did_of(operation)
    async with svc.access.locks.hold(did):
        if svc.directory.did_operations(did):
            raise ConflictError("this DID already exists", did=did)
        return await _submit(svc, None, operation, status=201)


@router.post("/dids/{did:path}/operations", openapi_extra=body_schema(DidOperation))
async def update_did(did: str, request: Request, svc: Svc) -> JSONResponse:
    """Apply an update or deactivate operation signed by a current capabilityInvocation key."""
    svc.limit_anonymous(request)
    operation = require_object(await read_json(request), "body")
    if operation.get("type") not in ("update", "deactivate"):
        raise MalformedValueError("this takes an update or deactivate operation", field="type")
    if operation.get("did") != did:
        raise MalformedValueError("the operation names another DID", field="did")
    async with svc.access.locks.hold(did):
        current = svc.verification.cityid.history(did)[-1]
        return await _submit(svc, current, operation, status=200)


@router.get("/dids/{did:path}/operations")
def operations(did: str, svc: Svc) -> list[dict[str, Any]]:
    """The DID's signed operations with their log positions, so anyone can replay them."""
    svc.verification.cityid.history(did)  # 404 for unknown DIDs, and re-verifies what is stored
    return [
        {
            "sequence": r.sequence,
            "time": r.time.isoformat(),
            "logIndex": r.log_index,
            "operation": parse_json(r.operation),
        }
        for r in svc.directory.did_operations(did)
    ]


async def _submit(
    svc: Services, current: DidState | None, operation: dict[str, Any], status: int
) -> JSONResponse:
    """Validate -> anchor -> store (compare-and-swap on the sequence number)."""
    time = svc.whole_seconds()
    state = apply(current, operation, time, log_index=0)  # raises before anything is written
    kind = (
        "did.created"
        if current is None
        else "did.deactivated"
        if state.deactivated
        else "did.updated"
    )
    fields = {"did": state.did, "operation_digest": state.last_digest}
    if not state.deactivated:
        fields["document_digest"] = digest(state.document)
    if current is not None:
        fields["previous_digest"] = current.last_digest
    anchor = svc.logs.anchors.anchor(kind, time, fields)
    record = DidOperationRecord(state.did, state.version - 1, jcs(operation).decode(), time, 0)
    # Compare-and-swap on the sequence number, with the log entry in the same write: if
    # another replica applied an operation meanwhile this raises ConflictError and
    # leaves no entry. The store writes the entry's index into the record.
    svc.directory.append_did_operation(record, anchor)
    receipt = svc.logs.anchors.receipt(anchor)
    stored = replace(state, log_index=receipt.index)  # verified once, by apply() above
    return JSONResponse(
        {
            "did": state.did,
            "didDocument": stored.document,
            "didDocumentMetadata": document_metadata(stored, None),
            "receipt": receipt_json(receipt),
        },
        status_code=status,
    )
