"""Agencies (issuers) managed by the operator."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from identity.dids.key import did_from_key
from identity.errors import ConflictError, NotFoundError
from identity.keys import Ed25519PrivateKey
from identity.stores import IssuerRecord
from schemas.api import (
    CreatedIssuer,
    CreateIssuerRequest,
    CreateKeyRequest,
    CreateVerifierRequest,
    IssuerView,
)
from service.agency_keys import verification_method
from service.auth import SCOPES, VERIFIER_SCOPES, new_api_key, require_admin
from service.container import Services, Svc, read_json
from service.didweb import agency_did_web
from service.observability.watch import fields
from service.routers import body_schema, check_envelope

router = APIRouter(tags=["issuers"])
events = logging.getLogger("identity.events")


def view(issuer: IssuerRecord, did_web: str | None = None) -> IssuerView:
    """The public view of an agency (never its sealed key); ``did_web`` is its did:web when the
    public URL has one."""
    return IssuerView(
        id=issuer.id,
        name=issuer.name,
        did=issuer.did,
        verificationMethod=verification_method(issuer),
        created=issuer.created.isoformat(),
        didWeb=did_web,
    )


async def create_agency(svc: Services, req: CreateIssuerRequest) -> CreatedIssuer:
    """Generate the agency's key and seal it; anchor the act; store the agency with a
    first API key (one write). A taken id is refused before anything is written."""
    if req.id is not None:
        try:
            svc.store.get_issuer(req.id)
        except NotFoundError:
            pass
        else:
            raise ConflictError("issuer id already exists", issuer=req.id)
    now = svc.clock.now()
    key = Ed25519PrivateKey.generate()
    issuer = IssuerRecord(
        id=req.id or secrets.token_hex(6),
        name=req.name,
        did=did_from_key(key.public_key()),
        sealed_key=svc.issuance.keys.seal(key),
        created=now,
    )
    api_key, key_record = new_api_key(issuer.id, now)
    anchor = svc.logs.new_anchor("issuer.created", {"issuer": issuer.id, "did": issuer.did})
    svc.store.create_issuer(issuer, key_record, anchor)  # the id is unique inside the write
    svc.logs.receipt_of(anchor)
    events.info(
        "agency created",
        extra=fields(event="agency.created", agency=issuer.id, key_id=key_record.key_id),
    )
    return CreatedIssuer(
        **view(issuer, agency_did_web(svc.settings, issuer.id)).model_dump(), apiKey=api_key
    )


@router.post(
    "/issuers",
    status_code=201,
    response_model=CreatedIssuer,
    openapi_extra=body_schema(CreateIssuerRequest),
)
async def create_issuer(request: Request, svc: Svc) -> JSONResponse:
    """Operator only: create an agency with a fresh did:key and a one-time API key."""
    require_admin(request, svc)
    body = await read_json(request)
    check_envelope(CreateIssuerRequest, body)
    created = await create_agency(svc, CreateIssuerRequest.model_validate(body))
    return JSONResponse(
        created.model_dump(), status_code=201, headers={"Cache-Control": "no-store"}
    )


@router.get("/issuers", response_model=list[IssuerView])
def list_issuers(svc: Svc) -> list[IssuerView]:
    """Public: the agencies this service hosts and their DIDs."""
    return [view(i, agency_did_web(svc.settings, i.id)) for i in svc.store.list_issuers()]


@router.get("/issuers/{issuer_id}", response_model=IssuerView)
def get_issuer(issuer_id: str, svc: Svc) -> IssuerView:
    """Public: one agency and its DIDs; 404 for an unknown id."""
    issuer = svc.store.get_issuer(issuer_id)
    return view(issuer, agency_did_web(svc.settings, issuer.id))


@router.post(
    "/issuers/{issuer_id}/keys", status_code=201, openapi_extra=body_schema(CreateKeyRequest)
)
async def add_key(issuer_id: str, request: Request, svc: Svc) -> JSONResponse:
    """Operator only: a further API key for an agency (rotation, or narrower scopes:
    body ``{"scopes": ["issue" | "revoke" | "read" | "accredit" | "share", ...]}``, all five
    by default)."""
    require_admin(request, svc)
    scopes = SCOPES
    if _has_body(request):
        body = await read_json(request)
        check_envelope(CreateKeyRequest, body)
        scopes = frozenset(CreateKeyRequest.model_validate(body).scopes)
    svc.store.get_issuer(issuer_id)
    api_key, record = new_api_key(issuer_id, svc.clock.now(), scopes)
    svc.store.add_api_key(record)
    events.info(
        "API key created",
        extra=fields(
            event="api_key.created",
            agency=issuer_id,
            key_id=record.key_id,
            scopes=sorted(record.scopes),
        ),
    )
    return JSONResponse(
        {"apiKey": api_key, "keyId": record.key_id},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


def _has_body(request: Request) -> bool:
    """Whether the request carries a body, however framed: a Content-Length other than 0,
    or ``Transfer-Encoding`` (chunked: no length is declared, RFC 9112 §6.1)."""
    declared = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (declared or "0").lstrip("0") != ""


@router.delete("/issuers/{issuer_id}/keys/{key_id}", status_code=204)
def revoke_key(issuer_id: str, key_id: str, request: Request, svc: Svc) -> Response:
    """Operator only: revoke an agency's API key."""
    require_admin(request, svc)
    record = svc.store.find_api_key(key_id)
    if record is None or record.issuer_id != issuer_id:
        raise NotFoundError("no such API key for this issuer")
    svc.store.revoke_api_key(key_id)
    events.info(
        "API key revoked",
        extra=fields(event="api_key.revoked", agency=issuer_id, key_id=record.key_id),
    )
    return Response(status_code=204)  # no body, so no Content-Type


@router.post("/verifiers", status_code=201, openapi_extra=body_schema(CreateVerifierRequest))
async def create_verifier(request: Request, svc: Svc) -> JSONResponse:
    """Operator only: a verifier API key (scope ``verify``; lifts the anonymous rate limit)."""
    require_admin(request, svc)
    body = await read_json(request)
    check_envelope(CreateVerifierRequest, body)
    api_key, record = new_api_key(None, svc.clock.now(), VERIFIER_SCOPES)
    svc.store.add_api_key(record)
    events.info(
        "verifier key created", extra=fields(event="verifier_key.created", key_id=record.key_id)
    )
    return JSONResponse(
        {"apiKey": api_key, "keyId": record.key_id, "name": body["name"]},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.delete("/verifiers/{key_id}", status_code=204)
def revoke_verifier(key_id: str, request: Request, svc: Svc) -> Response:
    """Operator only: revoke a verifier API key. The store marks it revoked and grows the
    trust version, so every replica refuses it from its next request (no local cache
    outlives it); an unknown id, or an agency's key, is a 404 problem. Idempotent."""
    require_admin(request, svc)
    record = svc.store.find_api_key(key_id)
    if record is None or record.issuer_id is not None:
        raise NotFoundError("no such verifier API key", key_id=key_id[:100])
    svc.store.revoke_api_key(key_id)
    events.info(
        "verifier key revoked", extra=fields(event="verifier_key.revoked", key_id=record.key_id)
    )
    return Response(status_code=204)  # no body, so no Content-Type
