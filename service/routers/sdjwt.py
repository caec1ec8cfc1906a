"""SD-JWT VC routes: issue (``dc+sd-jwt``), verify, JWT VC issuer metadata, type
metadata (``vct``) and Token Status Lists (``application/statuslist+jwt``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from identity.credentials.token_status import MEDIA_TYPE
from identity.errors import IdentityError, NotFoundError
from service.auth import authenticate_agency
from service.container import Svc, read_json, require_object
from service.observability import issuing, verification
from service.observability.checks import sd_jwt_failed_check
from service.observability.metrics import SD_JWT
from service.problems import problem_for
from service.sdjwt import STATUS_LIST_TTL, jwt_vc_issuer_path

router = APIRouter(tags=["sd-jwt"])


@router.post("/credentials/sd-jwt/issue", status_code=201)
async def issue_sd_jwt(request: Request, svc: Svc) -> JSONResponse:
    """Agency API key with the ``issue`` scope: an SD-JWT VC of a registered type, bound
    to the holder key in ``options.cnf.jwk``; anchored like every issuance."""
    agency = authenticate_agency(request, svc)
    agency.require("issue")
    body = require_object(await read_json(request), "body")
    issuer = svc.store.get_issuer(agency.issuer_id)
    with issuing(request, SD_JWT):
        issued = await svc.issuance.sdjwt.issue(issuer, body)
    return JSONResponse(issued, status_code=201)


@router.post("/credentials/sd-jwt/verify")
async def verify_sd_jwt(request: Request, svc: Svc) -> JSONResponse:
    """Verify an SD-JWT VC or presentation: 200 with the disclosed claims and every
    check, or a problem+json (400 unparseable, 422 not verified) whose ``check`` names
    the check that failed."""
    svc.limit_anonymous(request)
    body = require_object(await read_json(request), "body")
    try:
        verified = svc.issuance.sdjwt.verify(body)
    except IdentityError as exc:
        check = sd_jwt_failed_check(exc)
        if check is None:
            raise
        verification(request, None, [check], cryptosuite=SD_JWT)
        return problem_for(exc, check=check)
    verification(request, None, cryptosuite=SD_JWT)
    return JSONResponse(verified)


@router.get("/.well-known/jwt-vc-issuer")
@router.get("/.well-known/jwt-vc-issuer/{tail:path}")
def jwt_vc_issuer(request: Request, svc: Svc, tail: str = "") -> JSONResponse:
    """JWT VC issuer metadata for ``iss`` (the well-known segment after the host)."""
    if request.url.path.rstrip("/") != jwt_vc_issuer_path(svc.settings.public_url):
        raise NotFoundError("no JWT VC issuer here", path=request.url.path)
    return JSONResponse(
        svc.issuance.sdjwt.issuer_metadata(), headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/vct/{type_name}")
def type_metadata(type_name: str, svc: Svc) -> JSONResponse:
    """SD-JWT VC type metadata of a registered credential type (zh-CN and en names)."""
    return JSONResponse(
        svc.issuance.sdjwt.type_metadata(type_name),
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/statuslists/{group}")
def token_status_list(group: str, request: Request, svc: Svc) -> Response:
    """The signed Token Status List of a status group (re-signed when a bit changes)."""
    token, _ = svc.issuance.sdjwt.status_list_token(group)
    etag = f'"{group}-{svc.issuance.sdjwt.status_list_version(group)}"'
    headers = {"Cache-Control": f"public, max-age={STATUS_LIST_TTL}", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(token, headers=headers, media_type=MEDIA_TYPE)
