"""A citizen's credential as a QR code (issue #14), rendered with segno.

* ``GET /wallet/credentials/{id}/qr[?format=svg|png]`` -- the credential the city-hosted
  wallet keeps for the signed-in citizen (:mod:`service.wallet`). Without ``format``, the
  ``Accept`` header chooses (``image/png`` alone gives PNG; anything else SVG).
* ``POST /wallet/credentials/{id}/qr`` -- the same for a credential the citizen holds
  themselves (one issued before the wallet kept credentials, or one the wallet could not
  keep): the body is the credential, checked to be the one issued under ``id`` to this
  citizen (SHA-256 of its JCS is the record's digest).

Both render the compact encoding (``identity/credentials/qrcode.py``). Another citizen's
or an unknown id is ``404`` (the same answer: no existence leak); too large for one code
is ``422 qr-capacity``; nothing is ever written.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from identity.canonical import jcs
from identity.credentials import qrcode
from identity.errors import MalformedValueError, NotFoundError
from identity.stores import CredentialRecord
from service.auth import authenticate_citizen
from service.container import Services, Svc, read_json, require_object

router = APIRouter(tags=["citizens"])
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
PATH = "/wallet/credentials/{credential_id:path}/qr"


def render(
    payload: str,
    kind: str,
    scale: int = 4,
    mode: str = "alphanumeric",
    error: str = "l",
    title: str = "QR code of a verifiable credential",
) -> bytes:
    """The QR code of ``payload`` (alphanumeric mode unless told, e.g. ``byte`` for a URI;
    error correction ``error``, boosted when a higher level fits in the same version) as
    SVG (titled ``title``) or PNG bytes, with the standard 4-module quiet zone."""
    code = segno.make(payload, mode=mode, error=error, boost_error=True, micro=False)
    out = io.BytesIO()
    if kind == "svg":
        code.save(
            out,
            kind="svg",
            scale=scale,
            border=4,
            xmldecl=False,
            svgns=True,
            title=title,
        )
    else:
        code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def chosen_format(format: str | None, accept: str) -> str:
    """``format`` when given (svg or png, else 422); else PNG when ``Accept`` names
    ``image/png`` and not ``image/svg+xml``; else SVG."""
    if format is not None:
        if format not in FORMATS:
            raise MalformedValueError('format is "svg" or "png"', field="format")
        return format
    return "png" if "image/png" in accept and "image/svg+xml" not in accept else "svg"


def my_record(svc: Services, did: str, credential_id: str) -> CredentialRecord:
    """The record of ``credential_id`` when it was issued to ``did``; else 404."""
    record = svc.store.find_credential(credential_id)
    if record is None or record.subject_id != did:
        raise NotFoundError("no such credential in your wallet")
    return record


def qr_response(credential: dict[str, Any], kind: str) -> Response:
    """The rendered code (422 ``qr-capacity`` when the credential does not fit)."""
    payload = qrcode.encode(credential)
    return Response(
        render(payload, kind),
        media_type=FORMATS[kind],
        headers={
            "Cache-Control": "no-store",
            "Vary": "Accept",
            "X-QR-Payload-Length": str(len(payload)),
        },
    )


@router.get(PATH, responses={200: {"content": {t: {} for t in FORMATS.values()}}})
async def held_credential_qr(
    credential_id: str, request: Request, svc: Svc, format: str | None = None
) -> Response:
    """The citizen's (token) credential kept by the wallet, as a QR code."""
    did = authenticate_citizen(request, svc)
    kind = chosen_format(format, request.headers.get("accept", ""))
    record = my_record(svc, did, credential_id)
    credential = svc.issuance.wallet.credential(did, record)
    if credential is None:
        raise NotFoundError(
            "the wallet does not hold this credential (issued before it kept credentials): "
            "POST the credential file to this address instead"
        )
    return qr_response(credential, kind)


@router.post(PATH, responses={200: {"content": {t: {} for t in FORMATS.values()}}})
async def credential_qr(
    credential_id: str, request: Request, svc: Svc, format: str | None = None
) -> Response:
    """The citizen (token) posts the credential issued under ``credential_id``."""
    did = authenticate_citizen(request, svc)
    kind = chosen_format(format, request.headers.get("accept", ""))
    record = my_record(svc, did, credential_id)
    credential = require_object(await read_json(request), "body")
    if hashlib.sha256(jcs(credential)).digest() != record.digest:
        raise MalformedValueError(
            "this is not the credential issued under this id (its digest differs)",
            field="body",
        )
    return qr_response(credential, kind)
