"""Status lists: the signed lists verifiers fetch, and ``POST /credentials/status``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from identity.errors import ConflictError, MalformedValueError, PermissionDeniedError
from schemas.api import UpdateStatusRequest
from service.auth import authenticate_agency
from service.container import Svc, read_json, require_object
from service.routers import body_schema, check_envelope

router = APIRouter(tags=["status"])

# VC-API "status" words, and the (purpose, bit) each sets.
STATUS_WORDS = {
    "revoked": ("revocation", True),
    "suspended": ("suspension", True),
    "unsuspended": ("suspension", False),
    "active": ("suspension", False),
}


@router.get("/status-lists/{group}/{purpose}")
def status_list(group: str, purpose: str, request: Request, svc: Svc) -> Response:
    """The signed BitstringStatusListCredential; re-signed when a bit changes."""
    document, version = svc.status.signed_list(group, purpose)
    etag = f'"{group}-{purpose}-{version}"'
    headers = {"Cache-Control": "public, max-age=60", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)  # no body (RFC 9110 §15.4.5)
    return JSONResponse(document, headers=headers, media_type="application/vc+ld+json")


def _changes(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """Accept ``status`` as a VC-API word or as ``{statusPurpose, status: bool}``."""
    items = body.get("credentialStatus")
    items = items if isinstance(items, list) else [items]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise MalformedValueError("credentialStatus items must be objects")
        status = item.get("status")
        if isinstance(status, str) and status in STATUS_WORDS:
            out.append(STATUS_WORDS[status])
        elif isinstance(status, bool) and item.get("statusPurpose") in ("revocation", "suspension"):
            out.append((item["statusPurpose"], status))
        else:
            raise MalformedValueError(
                "status must be revoked/suspended/active, or a boolean with a statusPurpose",
                field="credentialStatus.status",
            )
    return out


def _suspendable(svc: Svc, credential_type: str) -> bool:
    """Whether issuance gave the credential a suspension entry: its registered type
    allows suspension (unregistered types, where allowed, always get one)."""
    registered = svc.store.find_type(credential_type)
    return registered is None or registered.suspendable


@router.post("/credentials/status", openapi_extra=body_schema(UpdateStatusRequest))
async def update_status(request: Request, svc: Svc) -> JSONResponse:
    """The issuing agency (scope ``revoke``) revokes, suspends or unsuspends a credential.

    Revocation is final (Bitstring Status List §2.1: revocation cannot be undone).
    """
    agency = authenticate_agency(request, svc.store)
    agency.require("revoke")
    body = require_object(await read_json(request), "body")
    check_envelope(UpdateStatusRequest, body)
    changes = _changes(body)
    record = svc.store.get_credential(body["credentialId"])
    if record.issuer_id != agency.issuer_id:
        raise PermissionDeniedError("only the issuing agency may change this credential's status")
    if record.status_group is None or record.status_index is None:
        raise ConflictError("this credential was issued without a status entry")
    for purpose, value in changes:
        if purpose == "revocation" and not value:
            raise ConflictError("revocation is final and cannot be undone")
        if purpose not in svc.status.purposes:
            raise ConflictError(f"this credential has no {purpose} status")
        if purpose == "suspension" and not _suspendable(svc, record.type):
            raise ConflictError(
                f"{record.type} credentials cannot be suspended (no suspension entry)",
                type=record.type,
            )
    receipts = []
    for purpose, value in changes:
        kind = (
            "credential.revoked"
            if purpose == "revocation"
            else "credential.suspended"
            if value
            else "credential.reinstated"
        )
        fields = {
            "credential_id": record.id,
            "issuer": record.issuer_did,
            "status_list": f"{record.status_group}/{purpose}",
        }
        receipts.append(await svc.anchor_event(kind, fields))
        svc.store.set_status(record.status_group, purpose, record.status_index, value)
    return JSONResponse(
        {
            "credentialId": record.id,
            "receipts": receipts,
            "status": svc.status.current(record.status_group, record.status_index),
        }
    )
