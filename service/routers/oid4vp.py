"""OpenID4VP 1.0 routes (issue #18 part 2).

Verifier API (a verifier API key; problem+json errors):
``POST /oid4vp/requests``, ``GET /oid4vp/requests/{id}/qr``, ``GET /oid4vp/requests/{id}/result``.
Wallet side (public; OAuth-style errors, OpenID4VP §8.5): ``GET``/``POST
/oid4vp/requests/{id}/request.jwt`` (the request object, §5.10) and ``POST
/oid4vp/responses/{id}`` (the Response Endpoint of ``direct_post``, §8.2).
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from identity.errors import IdentityError, MalformedValueError, UnsupportedMediaTypeError
from identity.oid4vp.errors import Oid4vpError
from service.auth import identify, refuse
from service.container import Svc, read_capped, read_json, require_object
from service.oid4vp import Oid4vpVerifier
from service.web.qr import FORMATS, chosen_format, render

router = APIRouter(tags=["oid4vp"])
REQUEST_JWT = "application/oauth-authz-req+jwt"
MAX_FORM = 128 * 1024


def oid4vp(request: Request) -> Oid4vpVerifier:
    """The running app's OpenID4VP verifier (``app.state.oid4vp``)."""
    verifier: Oid4vpVerifier = request.app.state.oid4vp
    return verifier


Vp = Annotated[Oid4vpVerifier, Depends(oid4vp)]


def _verifier(request: Request, svc: Svc) -> str:
    caller = identify(request, svc)
    if caller.role != "verifier":
        refuse(caller, "a verifier API key")
    return caller.name


def oauth_error(exc: IdentityError) -> JSONResponse:
    """An OAuth error response (RFC 6749 §5.2 shape, OpenID4VP §8.5 codes), 400."""
    code = getattr(exc, "oauth_error", "invalid_request")
    return JSONResponse(
        {"error": code, "error_description": exc.detail},
        status_code=400,
        headers={"Cache-Control": "no-store"},
    )


async def _form(request: Request) -> dict[str, str]:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    body = await read_capped(request, MAX_FORM)  # never buffered beyond MAX_FORM
    if media != "application/x-www-form-urlencoded" and body != b"":
        raise UnsupportedMediaTypeError(
            "the body must be application/x-www-form-urlencoded", media_type=media[:100]
        )
    if body is None:
        raise Oid4vpError("the response is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise Oid4vpError("the body is not a URL-encoded form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.1: parameters are not repeated
            raise Oid4vpError(f"the parameter {name} is repeated")
        form[name] = value
    return form


@router.post("/oid4vp/requests", status_code=201)
async def create_request(request: Request, svc: Svc, vp: Vp) -> JSONResponse:
    """Verifier API key: a presentation request for a DCQL query; the request URI, the
    ``openid4vp://`` URI for a QR code or link, and where to poll for the result."""
    owner = _verifier(request, svc)
    body = require_object(await read_json(request), "body")
    created = vp.create(owner, body)
    return JSONResponse(vp.view(created), status_code=201, headers={"Cache-Control": "no-store"})


@router.get("/oid4vp/requests/{request_id}/qr")
def request_qr(
    request_id: str, request: Request, svc: Svc, vp: Vp, format: str | None = None
) -> Response:
    """Verifier API key: the ``openid4vp://`` URI of a request as a QR code (SVG or PNG)."""
    owner = _verifier(request, svc)
    kind = chosen_format(format, request.headers.get("accept", ""))
    uri = vp.view(vp.owned(request_id, owner))["authorizationRequest"]
    return Response(render(uri, kind, mode="byte"), media_type=FORMATS[kind])


@router.get("/oid4vp/requests/{request_id}/result")
def request_result(
    request_id: str, request: Request, svc: Svc, vp: Vp, response_code: str | None = None
) -> JSONResponse:
    """Verifier API key: the request's status and, once answered, exactly what was
    presented (same-device requests need the ``response_code`` of the redirect)."""
    owner = _verifier(request, svc)
    return JSONResponse(
        vp.result(request_id, owner, response_code), headers={"Cache-Control": "no-store"}
    )


@router.get("/oid4vp/requests/{request_id}/request.jwt")
def get_request_object(request_id: str, vp: Vp) -> Response:
    """The signed request object (``oauth-authz-req+jwt``); refused once answered or expired."""
    try:
        token = vp.fetch(request_id)
    except IdentityError as exc:
        return oauth_error_uri(exc)
    return Response(token, media_type=REQUEST_JWT, headers={"Cache-Control": "no-store"})


@router.post("/oid4vp/requests/{request_id}/request.jwt")
async def post_request_object(request_id: str, request: Request, vp: Vp) -> Response:
    """``request_uri_method=post`` (§5.10): the wallet may send ``wallet_nonce``, which
    the request object then carries."""
    try:
        form = await _form(request)
        nonce = form.get("wallet_nonce")
        if nonce is not None and not 1 <= len(nonce) <= 256:
            raise MalformedValueError("wallet_nonce is 1..256 characters")
        token = vp.fetch(request_id, wallet_nonce=nonce)
    except IdentityError as exc:
        return oauth_error_uri(exc)
    return Response(token, media_type=REQUEST_JWT, headers={"Cache-Control": "no-store"})


def oauth_error_uri(exc: IdentityError) -> JSONResponse:
    """A refused request object fetch: ``invalid_request_uri`` (RFC 9101 §7)."""
    return JSONResponse(
        {"error": "invalid_request_uri", "error_description": exc.detail},
        status_code=400,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/oid4vp/responses/{request_id}")
async def direct_post(request_id: str, request: Request, vp: Vp) -> JSONResponse:
    """The Response Endpoint (``direct_post``, §8.2): 200 (with ``redirect_uri`` for a
    same-device request) when verified and recorded; else a §8.5 error, kept on the open
    request as a refusal (never as an answer: the request stays open until it expires)."""
    try:
        form = await _form(request)
        answer = await vp.answer(request_id, form)
    except IdentityError as exc:
        await asyncio.to_thread(vp.refuse, request_id, exc)
        return oauth_error(exc)
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})
