"""DID resolution: ``/dids/{did}`` and the DIF Universal Resolver's ``/1.0/identifiers/{did}``.

Both take the DID Resolution options ``versionId`` and ``versionTime`` (DID Core §7.1.2)
as query parameters; only did:cityid keeps versions. ``/dids`` answers errors with
problem+json like every other route; ``/1.0/identifiers`` follows the DID Resolution
HTTP(S) binding instead: the result's ``didResolutionMetadata.error`` carries the problem
(type URLs ``https://www.w3.org/ns/did#…``) and the status is 400 / 404 / 410 / 501.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from identity.credentials.model import parse_datetime
from identity.dids import Resolution, parse_did
from identity.dids.cityid import METHOD
from identity.errors import (
    DidResolutionError,
    IdentityError,
    InvalidDidDocumentError,
    InvalidDidError,
    MalformedValueError,
    NotFoundError,
    UnavailableError,
)
from service.container import Services, Svc

router = APIRouter(tags=["dids"])

RESULT_CONTEXT = "https://w3id.org/did-resolution/v1"
RESULT_TYPE = "application/did-resolution"
DEREFERENCING_TYPE = "application/did-url-dereferencing"
DID_ERRORS = "https://www.w3.org/ns/did#"


@router.get("/dids/{did:path}")
def resolve(
    did: str, svc: Svc, versionId: str | None = None, versionTime: str | None = None
) -> JSONResponse:
    """Resolve a DID to its document and metadata; bad DIDs get 4xx problem+json."""
    resolution = _resolve(svc, did, versionId, versionTime)
    return JSONResponse(
        _result(resolution),
        media_type='application/ld+json;profile="https://w3id.org/did-resolution"',
    )


@router.get("/1.0/identifiers/{did:path}")
def universal_resolver(
    did: str,
    request: Request,
    svc: Svc,
    versionId: str | None = None,
    versionTime: str | None = None,
) -> JSONResponse:
    """The Universal Resolver driver interface: resolve a DID, or dereference a DID URL
    with a fragment (``…%23key-1``) to the verification method or service it names.
    ``Accept: application/did+ld+json`` (or ``application/did+json``) asks for the bare
    document or node."""
    did, _, fragment = did.partition("#")
    try:
        resolution = _resolve(svc, did, versionId, versionTime)
        node = _node(resolution.did_document, f"{did}#{fragment}") if fragment else None
    except IdentityError as exc:
        status, code = _error_code(exc)
        error = {"type": DID_ERRORS + code, "title": code, "detail": exc.detail}
        body = {
            "@context": RESULT_CONTEXT,
            "didDocument": None,
            "didDocumentMetadata": {},
            "didResolutionMetadata": {"error": error},
        }
        return JSONResponse(body, status_code=status, media_type=RESULT_TYPE)
    deactivated = resolution.document_metadata.get("deactivated") is True
    status = 410 if deactivated else 200
    accept = request.headers.get("accept", "")
    for media in ("application/did+ld+json", "application/did+json"):
        if media in accept and RESULT_TYPE not in accept:
            bare = node if node is not None else resolution.did_document
            return JSONResponse(bare, status_code=status, media_type=media)
    if node is not None:
        dereferenced = {
            "@context": RESULT_CONTEXT,
            "contentStream": node,
            "contentMetadata": resolution.document_metadata,
            "dereferencingMetadata": {"contentType": "application/did+ld+json"},
        }
        return JSONResponse(dereferenced, status_code=status, media_type=DEREFERENCING_TYPE)
    return JSONResponse(_result(resolution), status_code=status, media_type=RESULT_TYPE)


def _node(document: dict[str, Any], url: str) -> dict[str, Any]:
    """The verification method or service ``url`` names (DID Resolution §dereferencing
    a fragment); NOT_FOUND when the document has none."""
    for member in ("verificationMethod", "service"):
        for node in document.get(member, []):
            if isinstance(node, dict) and node.get("id") == url:
                return node
    raise NotFoundError("the DID document has no node with that fragment", url=url[:200])


def _resolve(
    svc: Services, did: str, version_id: str | None, version_time: str | None
) -> Resolution:
    if version_id is None and version_time is None:
        return svc.verification.resolver.resolve(did)
    method, _ = parse_did(did)
    if method != METHOD:
        raise InvalidDidError(
            f"versionId and versionTime apply to did:{METHOD} DIDs only", method=method
        )
    moment: datetime | None = None
    if version_time is not None:
        moment = parse_datetime(version_time, "versionTime")
    return svc.verification.cityid.resolve(did, version_id=version_id, version_time=moment)


def _result(resolution: Resolution) -> dict[str, Any]:
    return {
        "@context": RESULT_CONTEXT,
        "didDocument": resolution.did_document,
        "didDocumentMetadata": resolution.document_metadata,
        "didResolutionMetadata": resolution.resolution_metadata,
    }


def _error_code(exc: IdentityError) -> tuple[int, str]:
    """DID Resolution §7.3 error codes and their HTTP(S) binding statuses."""
    if isinstance(exc, InvalidDidError) and "supported" in exc.data:
        return 501, "METHOD_NOT_SUPPORTED"
    if isinstance(exc, InvalidDidError):
        return 400, "INVALID_DID"
    if isinstance(exc, MalformedValueError):
        return 400, "INVALID_OPTIONS"
    if isinstance(exc, NotFoundError):
        return 404, "NOT_FOUND"
    if isinstance(exc, InvalidDidDocumentError):
        return 502, "INVALID_DID_DOCUMENT"  # a remote did:web document that is not valid
    if isinstance(exc, DidResolutionError | UnavailableError):
        return 502, "INTERNAL_ERROR"  # the remote host failed us, not the caller
    return 500, "INTERNAL_ERROR"
