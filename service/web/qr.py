"""``POST /wallet/credentials/{id}/qr``: a credential of the citizen's as a QR code.

The service keeps digests of what it issued, never the claims (``identity/stores.py``),
so the citizen's wallet sends the credential it holds; the service checks it is the one
issued under ``id`` to this citizen (SHA-256 of its JCS is the record's digest) and
renders the compact encoding (``identity/credentials/qrcode.py``) with segno, as SVG
(default) or PNG (``?format=png``). Too large for one code: ``422 qr-capacity``.
"""

from __future__ import annotations

import hashlib
import io

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from identity.canonical import jcs
from identity.credentials import qrcode
from identity.errors import MalformedValueError, NotFoundError
from service.auth import authenticate_citizen
from service.container import Svc, read_json, require_object

router = APIRouter(tags=["citizens"])
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def render(payload: str, kind: str, scale: int = 4) -> bytes:
    """The QR code of ``payload`` (alphanumeric mode, error correction L boosted when it
    fits in the same version) as SVG or PNG bytes, with the standard 4-module quiet zone."""
    code = segno.make(payload, mode="alphanumeric", error="l", boost_error=True, micro=False)
    out = io.BytesIO()
    if kind == "svg":
        code.save(
            out,
            kind="svg",
            scale=scale,
            border=4,
            xmldecl=False,
            svgns=True,
            title="QR code of a verifiable credential",
        )
    else:
        code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


@router.post(
    "/wallet/credentials/{credential_id:path}/qr",
    responses={200: {"content": {t: {} for t in FORMATS.values()}}},
)
async def credential_qr(
    credential_id: str, request: Request, svc: Svc, format: str = "svg"
) -> Response:
    """The citizen (token) posts the credential issued under ``credential_id``."""
    did = authenticate_citizen(request, svc)
    if format not in FORMATS:
        raise MalformedValueError('format is "svg" or "png"', field="format")
    record = svc.store.find_credential(credential_id)
    if record is None or record.subject_id != did:
        raise NotFoundError("no such credential in your wallet")
    credential = require_object(await read_json(request), "body")
    if hashlib.sha256(jcs(credential)).digest() != record.digest:
        raise MalformedValueError(
            "this is not the credential issued under this id (its digest differs)",
            field="body",
        )
    payload = qrcode.encode(credential)
    return Response(
        render(payload, format),
        media_type=FORMATS[format],
        headers={"Cache-Control": "no-store", "X-QR-Payload-Length": str(len(payload))},
    )
