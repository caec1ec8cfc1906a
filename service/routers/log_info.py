"""The log's published identity: origin and public key (C2SP signed-note vkey)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.container import Svc

router = APIRouter(tags=["log"])


@router.get("/log/key")
def log_key(svc: Svc) -> JSONResponse:
    """What an auditor or verifier pins: ``identity audit URL --vkey <vkey>``."""
    verifier = svc.logs.log.signer.verifier
    return JSONResponse(
        {
            "origin": svc.logs.log.origin,
            "vkey": verifier.vkey,
            "publicKeyMultibase": verifier.public_key.multibase,
        },
        headers={"Cache-Control": "public, max-age=3600"},
    )
