"""Data-sharing requests: agencies ask, citizens consent, holders approve and serve.

Every act is validated first (nothing is written on bad input), then anchored in the log,
then stored with a compare-and-swap on the request's event count.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from identity.credentials.model import Credential, parse_datetime
from identity.credentials.verifier import CredentialNotVerified
from identity.directory_store import SharingRequest
from identity.errors import (
    InvalidConsentError,
    MalformedValueError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
)
from identity.registry import sharing
from identity.registry.catalog import CatalogEntry
from schemas.directory import AccessRequest, ExemptionRequest, SharingRequestBody
from service.auth import Agency, authenticate_citizen, identify, require_admin, sharing_agency
from service.container import (
    Services,
    Svc,
    parse_body,
    read_capped,
    read_json,
    require_object,
)
from service.log import receipt_json
from service.offline import run_verification
from service.routers import body_schema
from service.traceability import request_view, traced

router = APIRouter(tags=["directory chain"])


def _agency(request: Request, svc: Services) -> Agency:
    return sharing_agency(request, svc)


def _party(svc: Services, request_id: str, agency_id: str) -> SharingRequest:
    """The request, if ``agency_id`` is its requester or holder (else 404: no leak)."""
    found = _find(svc, request_id)
    if agency_id not in (found.requester, found.holder):
        raise NotFoundError("no such sharing request", id=request_id[:100])
    return found


def _subject(svc: Services, request_id: str, did: str) -> SharingRequest:
    found = _find(svc, request_id)
    if found.subject != did:
        raise NotFoundError("no such sharing request", id=request_id[:100])
    return found


def _find(svc: Services, request_id: str) -> SharingRequest:
    try:
        return svc.directory.get_request(request_id)
    except NotFoundError:
        raise NotFoundError("no such sharing request", id=request_id[:100]) from None


async def _act(
    svc: Services,
    request_id: str,
    read: Callable[[], SharingRequest],
    transition: Callable[[SharingRequest], sharing.Step],
    status: int = 200,
) -> JSONResponse:
    """Read, decide and record under the request's lock (service/locks.py)."""
    async with svc.access.locks.hold("sharing:" + request_id):
        step = transition(read())
        return JSONResponse(await _record(svc, step), status_code=status)


async def _record(svc: Services, step: sharing.Step, *, new: bool = False) -> dict[str, Any]:
    """Anchor the step, then store it; answer with the request and the receipt."""
    anchor = svc.logs.anchors.anchor(step.kind, step.request.updated, step.leaf_fields())
    if new:  # the store writes the entry's index into the event, in the same write
        svc.directory.create_request(step.request, step.event(0), anchor)
    else:
        svc.directory.advance_request(step.request, step.event(0), anchor)
    receipt = svc.logs.anchors.receipt(anchor)
    return {**request_view(step.request), "record": step.record, "receipt": receipt_json(receipt)}


@router.post("/sharing/requests", status_code=201, openapi_extra=body_schema(SharingRequestBody))
async def create_request(request: Request, svc: Svc) -> JSONResponse:
    """An agency asks the holder of a catalog resource for data about a citizen."""
    agency = _agency(request, svc)
    payload = require_object(await read_json(request), "body")
    resource, subject = payload.get("resource"), payload.get("subject")
    records = svc.directory.catalog_versions(resource) if isinstance(resource, str) else []
    if not records:
        raise NotFoundError("the resource is not in the catalog", resource=str(resource)[:100])
    entry = CatalogEntry.from_record(records[-1])
    if not entry.may_request(agency.issuer_id):
        raise PermissionDeniedError("the catalog entry does not list this agency as a requester")
    if not isinstance(subject, str):
        raise MalformedValueError("subject must be the citizen's DID", field="subject")
    # The citizen's DID must exist (a remote did:web is fetched off the event loop).
    resolution = await run_verification(lambda: svc.verification.resolver.resolve(subject))
    if resolution.document_metadata.get("deactivated") is True:
        raise PermissionDeniedError("the citizen's DID is deactivated", did=subject)
    requester = svc.store.get_issuer(agency.issuer_id)
    step = sharing.new_request(
        str(uuid.uuid4()),
        entry,
        (requester.id, requester.did),
        subject,
        payload,
        svc.whole_seconds(),
    )
    return JSONResponse(await _record(svc, step, new=True), status_code=201)


@router.get("/sharing/requests")
def list_requests(request: Request, svc: Svc) -> list[dict[str, Any]]:
    """The agency's own requests, as requester or as holder."""
    agency = _agency(request, svc)
    return [request_view(r) for r in svc.directory.requests_of_agency(agency.issuer_id)]


@router.get("/sharing/requests/{request_id}")
def get_request(request_id: str, request: Request, svc: Svc) -> dict[str, Any]:
    """A request with its traced history, for its agencies or the citizen concerned."""
    caller = identify(request, svc)
    if caller.did is not None:
        found = _subject(svc, request_id, caller.did)
    else:
        found = _party(svc, request_id, _agency(request, svc).issuer_id)
    trace = traced(svc, [found])
    return {**trace.pop("requests")[0], **trace}


@router.get("/sharing/requests/{request_id}/consent-template")
def consent_template(
    request_id: str,
    request: Request,
    svc: Svc,
    decision: str = "grant",
    validUntil: str | None = None,
) -> dict[str, Any]:
    """The unsigned consent receipt for the citizen's wallet to sign (eddsa-jcs-2022):
    ``decision`` ``grant`` or ``refuse`` (``POST …/consent``), or ``withdraw``
    (``POST …/withdraw``; it names the consent in force and is final)."""
    did = authenticate_citizen(request, svc)
    found = _subject(svc, request_id, did)
    if decision not in ("grant", "refuse", "withdraw"):
        raise MalformedValueError('decision is "grant", "refuse" or "withdraw"', field="decision")
    now = svc.whole_seconds()
    until = (
        parse_datetime(validUntil, "validUntil") if validUntil else now.replace(year=now.year + 1)
    )
    return sharing.consent_credential(found, decision, until, now)


async def _verified_receipt(svc: Services, receipt: dict[str, Any]) -> Credential:
    """The citizen's signed receipt, verified (proof, issuer, validity period)."""
    try:
        verified = await run_verification(
            lambda: svc.verification.verifier.verify(
                receipt, {"checks": ["proof", "issuer", "validityPeriod"]}
            )
        )
    except CredentialNotVerified as exc:
        raise InvalidConsentError(
            f"the consent receipt does not verify: {exc.detail}",
            checks=[c.name for c in exc.failed],
        ) from exc
    return verified.credential


@router.post("/sharing/requests/{request_id}/consent")
async def consent(request_id: str, request: Request, svc: Svc) -> JSONResponse:
    """The citizen answers with a signed DataSharingConsent credential (grant or refuse)."""
    did = authenticate_citizen(request, svc)
    _subject(svc, request_id, did)
    receipt = require_object(await read_json(request), "body")
    credential = await _verified_receipt(svc, receipt)
    return await _act(
        svc,
        request_id,
        lambda: _subject(svc, request_id, did),
        lambda found: sharing.answer(
            found, receipt, credential.issuer, credential.valid_until, svc.whole_seconds()
        ),
    )


@router.post("/sharing/requests/{request_id}/withdraw")
async def withdraw(request_id: str, request: Request, svc: Svc) -> JSONResponse:
    """The citizen withdraws consent: later approvals and accesses are refused.

    The body is the signed withdrawal (the consent template with ``decision=withdraw``,
    signed like the grant), anchored so it is as provable as the grant; an empty body or
    ``{}`` withdraws on the login token alone (docs/security.md says why both exist)."""
    did = authenticate_citizen(request, svc)
    _subject(svc, request_id, did)
    limit = svc.settings.max_body_bytes
    raw = await read_capped(request, limit)
    if raw is None:
        raise PayloadTooLargeError(f"request body exceeds {limit} bytes", limit=limit)
    receipt = require_object(parse_body(request, raw), "body") if raw.strip() else {}
    if not receipt:
        return await _act(
            svc,
            request_id,
            lambda: _subject(svc, request_id, did),
            lambda found: sharing.withdraw(found, svc.whole_seconds()),
        )
    credential = await _verified_receipt(svc, receipt)
    return await _act(
        svc,
        request_id,
        lambda: _subject(svc, request_id, did),
        lambda found: sharing.withdraw(found, svc.whole_seconds(), receipt, credential.issuer),
    )


@router.post(
    "/sharing/requests/{request_id}/exemption", openapi_extra=body_schema(ExemptionRequest)
)
async def exemption(request_id: str, request: Request, svc: Svc) -> JSONResponse:
    """Operator only: record the legal basis that makes consent unnecessary."""
    require_admin(request, svc)
    payload = require_object(await read_json(request), "body")
    return await _act(
        svc,
        request_id,
        lambda: _find(svc, request_id),
        lambda found: sharing.exempt(
            found, payload.get("legalBasis"), payload.get("reference"), svc.whole_seconds()
        ),
    )


@router.post("/sharing/requests/{request_id}/approve")
async def approve(request_id: str, request: Request, svc: Svc) -> JSONResponse:
    """The holding agency approves, on the citizen's consent or an exemption."""
    agency = _agency(request, svc)
    return await _act(
        svc,
        request_id,
        lambda: _holder(svc, request_id, agency),
        lambda found: sharing.approve(found, svc.whole_seconds()),
    )


@router.post(
    "/sharing/requests/{request_id}/accesses",
    status_code=201,
    openapi_extra=body_schema(AccessRequest),
)
async def record_access(request_id: str, request: Request, svc: Svc) -> JSONResponse:
    """The holding agency records one access it serves (body ``{"fields"?: [...]}``)."""
    agency = _agency(request, svc)
    payload = require_object(await read_json(request), "body")
    return await _act(
        svc,
        request_id,
        lambda: _holder(svc, request_id, agency),
        lambda found: sharing.access(found, payload, svc.whole_seconds()),
        status=201,
    )


def _holder(svc: Services, request_id: str, agency: Agency) -> SharingRequest:
    found = _party(svc, request_id, agency.issuer_id)
    if found.holder != agency.issuer_id:
        raise PermissionDeniedError("only the agency holding the data may do this")
    return found


@router.get("/wallet/access-history")
def access_history(request: Request, svc: Svc) -> dict[str, Any]:
    """Who asked for and accessed my data: every request about the citizen, every act,
    each with its log entry and inclusion proof against one signed checkpoint."""
    did = authenticate_citizen(request, svc)
    return traced(svc, svc.directory.requests_about(did))


@router.get("/sharing/stats")
def stats(request: Request, svc: Svc) -> dict[str, Any]:
    """Operator only: aggregate counts, never who or about whom."""
    require_admin(request, svc)
    counts = svc.directory.sharing_counts()
    latest = svc.directory.latest_catalog()
    by_publisher = Counter(r.publisher for r in latest)
    return {
        "requests": counts.get("requests", 0),
        "byState": {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("state:")},
        "byEvent": {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("event:")},
        "catalogEntries": len(latest),
        "catalogEntriesByAgency": dict(by_publisher),
    }
