"""DID resolution (DID Resolution §4 result shape)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.container import Svc

router = APIRouter(tags=["dids"])


@router.get("/dids/{did:path}")
def resolve(did: str, svc: Svc) -> JSONResponse:
    """Resolve a DID to its document and metadata; bad DIDs get 4xx problem+json."""
    resolution = svc.resolver.resolve(did)
    return JSONResponse(
        {
            "@context": "https://w3id.org/did-resolution/v1",
            "didDocument": resolution.did_document,
            "didDocumentMetadata": resolution.document_metadata,
            "didResolutionMetadata": resolution.resolution_metadata,
        },
        media_type='application/ld+json;profile="https://w3id.org/did-resolution"',
    )
