"""Status lists: the signed lists verifiers fetch, and ``POST /credentials/status``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from identity.credentials.status import MESSAGE, StatusMessages, message_purpose
from identity.errors import (
    ConflictError,
    IdentityError,
    MalformedValueError,
    NotFoundError,
    PermissionDeniedError,
)
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
STATE_WORDS = {
    ("revocation", True): "revoked",
    ("suspension", True): "suspended",
    ("suspension", False): "active",
}


@router.get("/status-lists/{group}/{purpose}")
def status_list(group: str, purpose: str, request: Request, svc: Svc) -> Response:
    """The signed BitstringStatusListCredential; re-signed when a bit changes."""
    document, version = svc.issuance.status.signed_list(group, purpose)
    etag = f'"{group}-{purpose}-{version}"'
    headers = {"Cache-Control": "public, max-age=60", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)  # no body (RFC 9110 §15.4.5)
    return JSONResponse(document, headers=headers, media_type="application/vc+ld+json")


@router.get("/status-messages/{credential_type}")
def status_messages(credential_type: str, svc: Svc) -> JSONResponse:
    """What each named state of a type means (the entries' default ``statusReference``)."""
    messages = svc.issuance.status.messages_for(credential_type)
    if messages is None:
        raise NotFoundError("this credential type has no named states", type=credential_type)
    return JSONResponse(
        {
            "type": credential_type,
            "statusPurpose": MESSAGE,
            "statusSize": messages.size,
            "statusMessage": messages.entry_members()["statusMessage"],
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


def _changes(body: dict[str, Any]) -> list[tuple[str, bool | str]]:
    """Accept ``status`` as a VC-API word, as ``{statusPurpose, status: bool}``, or as
    ``{statusPurpose: "message", status: <named state or its 0x value>}``."""
    items = body.get("credentialStatus")
    items = items if isinstance(items, list) else [items]
    out: list[tuple[str, bool | str]] = []
    for item in items:
        if not isinstance(item, dict):
            raise MalformedValueError("credentialStatus items must be objects")
        status = item.get("status")
        if item.get("statusPurpose") == MESSAGE and isinstance(status, str):
            out.append((MESSAGE, status))
        elif isinstance(status, str) and status in STATUS_WORDS:
            out.append(STATUS_WORDS[status])
        elif isinstance(status, bool) and item.get("statusPurpose") in ("revocation", "suspension"):
            out.append((item["statusPurpose"], status))
        else:
            raise MalformedValueError(
                "status must be revoked/suspended/active, a boolean with a statusPurpose, "
                "or a named state with statusPurpose message",
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
    agency = authenticate_agency(request, svc)
    agency.require("revoke")
    body = require_object(await read_json(request), "body")
    check_envelope(UpdateStatusRequest, body)
    changes = _changes(body)
    record = svc.store.get_credential(body["credentialId"])
    if record.issuer_id != agency.issuer_id:
        raise PermissionDeniedError("only the issuing agency may change this credential's status")
    if record.status_group is None or record.status_index is None:
        raise ConflictError("this credential was issued without a status entry")
    group, index = record.status_group, record.status_index
    messages = svc.issuance.status.messages_for(record.type)
    values: dict[int, int] = {}
    for position, (purpose, value) in enumerate(changes):
        if purpose == MESSAGE:
            if messages is None:
                raise ConflictError(
                    f"{record.type} credentials have no named states", type=record.type
                )
            values[position] = messages.value_of(value)
            continue
        if purpose == "revocation" and not value:
            raise ConflictError("revocation is final and cannot be undone")
        if purpose not in svc.issuance.status.purposes:
            raise ConflictError(f"this credential has no {purpose} status")
        if purpose == "suspension" and not _suspendable(svc, record.type):
            raise ConflictError(
                f"{record.type} credentials cannot be suspended (no suspension entry)",
                type=record.type,
            )
    # A change to the state the credential is already in is not an act: refused (409,
    # naming the state) so the log never records one; bulk re-runs count it as done.
    current = svc.issuance.status.current(record.status_group, record.status_index)
    for purpose, value in changes:
        if current.get(purpose) == value:
            word = STATE_WORDS[purpose, value]
            raise ConflictError(
                f"the credential is already {word}", credentialId=record.id, state=word
            )
    receipts = []
    for position, (purpose, value) in enumerate(changes):
        fields = {"credential_id": record.id, "issuer": record.issuer_did}
        if purpose == MESSAGE:
            assert messages is not None
            fields["status_list"] = f"{group}/{message_purpose(messages.size)}"
            fields["status"] = hex(values[position])
            anchor = svc.logs.new_anchor("credential.status_changed", fields)
            svc.issuance.status.set_message(group, index, messages, values[position], anchor)
            receipts.append(svc.logs.receipt_of(anchor))
            continue
        kind = (
            "credential.revoked"
            if purpose == "revocation"
            else "credential.suspended"
            if value
            else "credential.reinstated"
        )
        fields["status_list"] = f"{group}/{purpose}"
        # The bit and its entry in one write: across replicas the last status entry of a
        # credential always states its stored bit.
        anchor = svc.logs.new_anchor(kind, fields)
        svc.store.set_status(group, purpose, index, bool(value), anchor)
        receipts.append(svc.logs.receipt_of(anchor))
    out: dict[str, Any] = {
        "credentialId": record.id,
        "receipts": receipts,
        "status": svc.issuance.status.current(group, index),
    }
    if messages is not None:
        out["message"] = _current_message(svc, group, index, messages)
    return JSONResponse(out)


def _current_message(
    svc: Svc, group: str, index: int, messages: StatusMessages
) -> dict[str, str] | None:
    """The credential's named state, or None when its group predates named states."""
    try:
        return svc.issuance.status.current_message(group, index, messages)
    except IdentityError:
        return None
