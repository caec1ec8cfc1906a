"""OpenID for Verifiable Credential Issuance 1.0 routes (service/oid4vci.py).

Agency API (agency API key with the ``issue`` scope, problem+json on error):
``POST /oid4vci/offers``, ``POST /oid4vci/offers/{id}/approve``, ``GET
/oid4vci/offers/{id}/status`` (the counter page follows an offer). Public: the offer by
reference and its QR code, the two metadata documents. OAuth/OID4VCI endpoints (token,
nonce, credential, deferred, notification) answer errors as ``{"error",
"error_description"}`` (RFC 6749 §5.2, OID4VCI §8.3.1.2) with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from identity.errors import InputError, NotFoundError
from identity.oid4vci.errors import InvalidRequest, Oid4vciError
from service.auth import authenticate_agency
from service.container import Svc, read_capped, read_json, require_object
from service.oid4vci import Oid4vciIssuer, well_known
from service.oid4vci_status import offer_status
from service.web.qr import FORMATS, chosen_format, render

router = APIRouter(tags=["oid4vci"])
NO_STORE = {"Cache-Control": "no-store"}
MAX_FORM_BYTES = 8192


def get_oid4vci(request: Request) -> Oid4vciIssuer:
    """The OID4VCI capability of the running app."""
    issuer: Oid4vciIssuer = request.app.state.oid4vci
    return issuer


Vci = Annotated[Oid4vciIssuer, Depends(get_oid4vci)]


def access_token(request: Request) -> str | None:
    """The ``Authorization: Bearer`` access token (RFC 6750 §2.1), or None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def oauth_error(exc: Oid4vciError) -> JSONResponse:
    """The OAuth error response of ``exc`` (never a problem+json)."""
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.detail}, status_code=exc.status,
        headers=headers,
    )  # fmt: skip


async def oauth(call: Callable[[], Awaitable[tuple[int, Any]]]) -> Response:
    """Run an OAuth endpoint: its answer with ``no-store``, or its OAuth error."""
    try:
        status, body = await call()
    except Oid4vciError as exc:
        return oauth_error(exc)
    if body is None:
        return Response(status_code=status, headers=NO_STORE)
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def json_body(request: Request) -> Any:
    """The JSON body of an OID4VCI request, or ``invalid_request``-style refusal."""
    try:
        return await read_json(request)
    except InputError as exc:
        raise InvalidRequest(f"the body is not JSON: {exc.detail}") from exc


# -- metadata --------------------------------------------------------------------------


@router.get("/.well-known/openid-credential-issuer")
@router.get("/.well-known/openid-credential-issuer/{tail:path}")
def credential_issuer_metadata(request: Request, vci: Vci, tail: str = "") -> JSONResponse:
    """Credential Issuer Metadata (OID4VCI §12.2), at the well-known path inserted after
    the host of the Credential Issuer Identifier (§12.2.2)."""
    if request.url.path.rstrip("/") != well_known(vci.issuer_id, "openid-credential-issuer"):
        raise NotFoundError("no credential issuer here", path=request.url.path)
    return JSONResponse(vci.issuer_metadata(), headers={"Cache-Control": "public, max-age=300"})


@router.get("/.well-known/oauth-authorization-server")
@router.get("/.well-known/oauth-authorization-server/{tail:path}")
def authorization_server_metadata(request: Request, vci: Vci, tail: str = "") -> JSONResponse:
    """OAuth 2.0 Authorization Server Metadata (RFC 8414 §3: path after the host)."""
    if request.url.path.rstrip("/") != well_known(vci.issuer_id, "oauth-authorization-server"):
        raise NotFoundError("no authorization server here", path=request.url.path)
    return JSONResponse(
        vci.authorization_server_metadata(), headers={"Cache-Control": "public, max-age=300"}
    )


# -- agency API ------------------------------------------------------------------------


@router.post("/oid4vci/offers", status_code=201)
async def create_offer(request: Request, svc: Svc, vci: Vci) -> JSONResponse:
    """Agency API key with the ``issue`` scope: a credential offer for a citizen, by value
    and by reference, as ``openid-credential-offer://`` URIs and QR codes, with the
    Transaction Code (PIN) -- returned this once, to be handed over separately."""
    agency = authenticate_agency(request, svc)
    agency.require("issue")
    body = require_object(await read_json(request), "body")
    created = vci.create_offer(agency.issuer_id, body)
    return JSONResponse(vci.offer_links(created), status_code=201, headers=NO_STORE)


@router.post("/oid4vci/offers/{offer_id}/approve")
def approve_offer(offer_id: str, request: Request, svc: Svc, vci: Vci) -> JSONResponse:
    """Agency API key with the ``issue`` scope: approve a deferred offer of this agency."""
    agency = authenticate_agency(request, svc)
    agency.require("issue")
    return JSONResponse(vci.approve(agency.issuer_id, offer_id))


@router.get("/oid4vci/offers/{offer_id}/status")
def offer_progress(offer_id: str, request: Request, svc: Svc, vci: Vci) -> JSONResponse:
    """Agency API key with the ``issue`` scope: where one of its offers is (offered,
    redeemed, awaiting approval, issued, locked, expired), for the counter page to follow;
    no secret in it. Another agency's offer is 404 like an unknown one."""
    agency = authenticate_agency(request, svc)
    agency.require("issue")
    body = offer_status(vci.store, agency.issuer_id, offer_id, vci.now())
    return JSONResponse(body, headers=NO_STORE)


@router.get("/oid4vci/offers/{offer_id}")
def offer_by_reference(offer_id: str, vci: Vci) -> JSONResponse:
    """The Credential Offer at its ``credential_offer_uri`` (OID4VCI §4.1.3)."""
    return JSONResponse(vci.offer_by_reference(offer_id), headers=NO_STORE)


@router.get("/oid4vci/offers/{offer_id}/qr")
def offer_qr(offer_id: str, vci: Vci, format: str = "svg") -> Response:
    """The offer's ``openid-credential-offer://`` URI (by reference) as a QR code."""
    kind = chosen_format(format, "")
    vci.offer_by_reference(offer_id)
    qr = render(
        vci.offer_uri_by_reference(offer_id),
        kind,
        mode="byte",  # a URI has lower-case letters
        error="m",
        title="OpenID4VCI credential offer",
    )
    return Response(qr, media_type=FORMATS[kind], headers=NO_STORE)


# -- OAuth / OID4VCI endpoints ---------------------------------------------------------


@router.post("/oid4vci/token")
async def token(request: Request, vci: Vci) -> Response:
    """Token Endpoint (OID4VCI §6): ``application/x-www-form-urlencoded``, the
    pre-authorized code grant with ``tx_code``."""

    async def run() -> tuple[int, Any]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            raise InvalidRequest("the Token Request is application/x-www-form-urlencoded")
        raw = await read_capped(request, MAX_FORM_BYTES)
        if raw is None:
            raise InvalidRequest(f"the Token Request exceeds {MAX_FORM_BYTES} bytes")
        try:
            pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise InvalidRequest("the Token Request body is not form-encoded") from None
        names = [k for k, _ in pairs]
        if len(names) != len(set(names)):
            raise InvalidRequest("a parameter is repeated (RFC 6749 §3.2)")
        return 200, vci.token(dict(pairs))

    return await oauth(run)


@router.post("/oid4vci/nonce")
async def nonce(vci: Vci) -> Response:
    """Nonce Endpoint (OID4VCI §7): a fresh ``c_nonce``, never cached."""

    async def run() -> tuple[int, Any]:
        return 200, {"c_nonce": vci.nonce()}

    return await oauth(run)


@router.post("/oid4vci/credential")
async def credential(request: Request, vci: Vci) -> Response:
    """Credential Endpoint (OID4VCI §8): the access token, one ``jwt`` key proof with a
    ``c_nonce``, a ``credential_configuration_id`` the offer includes."""

    async def run() -> tuple[int, Any]:
        offer = vci.offer_of(access_token(request))  # 401 before the body is read
        return await vci.credential(offer, await json_body(request))

    return await oauth(run)


@router.post("/oid4vci/deferred_credential")
async def deferred_credential(request: Request, vci: Vci) -> Response:
    """Deferred Credential Endpoint (OID4VCI §9): 202 while the agency has not approved."""

    async def run() -> tuple[int, Any]:
        offer = vci.offer_of(access_token(request))  # 401 before the body is read
        return await vci.deferred(offer, await json_body(request))

    return await oauth(run)


@router.post("/oid4vci/notification", status_code=204)
async def notification(request: Request, vci: Vci) -> Response:
    """Notification Endpoint (OID4VCI §11): 204; the event is logged."""

    async def run() -> tuple[int, Any]:
        offer = vci.offer_of(access_token(request))  # 401 before the body is read
        vci.notification(offer, await json_body(request))
        return 204, None

    return await oauth(run)
