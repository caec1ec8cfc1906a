"""did:web documents of the agencies this service hosts (W3C CCG did:web)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from identity.dids.web import DID_LD_JSON, agency_web_did
from identity.errors import InvalidDidError, NotFoundError
from service.container import Svc
from service.didweb import hosted_document, service_domain

router = APIRouter(tags=["dids"])


@router.get("/agencies/{issuer_id}/did.json")
def agency_did_document(issuer_id: str, svc: Svc) -> JSONResponse:
    """The document of ``did:web:<domain>:agencies:<issuer_id>``: did:web §Read (Resolve)
    maps that DID to this path under ``IDENTITY_PUBLIC_URL``. 404 for an agency not
    hosted here (or when the public URL has no did:web form, e.g. an IP address).

    Served as ``application/did+ld+json``, the media type of the JSON-LD representation
    (DID Core 1.0 §6.3.1): the document carries an ``@context``.
    """
    domain = service_domain(svc.settings)
    if domain is None:
        raise NotFoundError("this service has no did:web domain (see IDENTITY_PUBLIC_URL)")
    try:
        did = agency_web_did(domain, issuer_id)
    except InvalidDidError:
        did = None
    document = hosted_document(svc.store, domain, did) if did is not None else None
    if document is None:
        raise NotFoundError("no agency with this id is hosted here", issuer=issuer_id[:100])
    return JSONResponse(
        document, media_type=DID_LD_JSON, headers={"Access-Control-Allow-Origin": "*"}
    )
