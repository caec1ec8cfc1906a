"""The Authorization Endpoint of OpenID4VCI 1.0 §5 (service/oid4vci_authorize.py) and
the Pushed Authorization Request endpoint (RFC 9126, service/oid4vci_par.py).

``GET /oid4vci/authorize`` -- the Authorization Request: a sign-in page (zh-CN/en) for a
browser, or, for a wallet asking ``Accept: application/json``, the request id, the
challenge and the URI to POST the sign-in to. ``POST /oid4vci/authorize/{request_id}``
-- ``presentation=<DID-auth VP>`` (form-encoded; the page's form, or a wallet that holds
the DID key): 303 to ``redirect_uri`` with ``code``, ``state`` and ``iss`` -- or, for a
wallet asking ``Accept: application/json``, that URI as ``{"redirect_to"}`` (200).

OAuth errors go to the client's ``redirect_uri`` (303) once it is known to be allowed;
before that, and for a sign-in that does not verify, the person sees an error page
(``Accept: text/html``) or a problem+json (anyone else), and nothing is changed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from identity.credentials.presentations import PresentationNotVerified
from identity.errors import IdentityError, MalformedValueError
from identity.oid4vci.errors import InvalidRequest, Oid4vciError
from service.container import read_capped
from service.oid4vci_authorize import Refusal, Started, answer_uri, sign_in, start
from service.oid4vci_par import push
from service.problems import problem_for, status_for
from service.routers.oid4vci import MAX_FORM_BYTES, NO_STORE, Vci, oauth
from service.web.authorize_page import error_page, sign_in_page

router = APIRouter(tags=["oid4vci"])

FORM = "application/x-www-form-urlencoded"
AUTHORIZE_PARAMETERS = [
    ("response_type", "code"),
    ("client_id", "https://wallet.example"),
    ("redirect_uri", "http://127.0.0.1:8765/callback"),
    ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
    ("code_challenge_method", "S256"),
    ("issuer_state", "q3m9G5…the offer's issuer_state"),
    ("scope", "ResidencePermitCredential"),
    ("authorization_details", '[{"type":"openid_credential","credential_configuration_id":'
                              '"ResidencePermitCredential_dc_sd_jwt"}]'),
    ("state", "af0ifjsldkj"),
    ("resource", "https://identity-service.example"),
    ("request_uri", "urn:ietf:params:oauth:request_uri:…(instead of the others but client_id)"),
]  # fmt: skip
#: none is required as such: the pushed form needs client_id and request_uri only
PARAMETERS = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
     "example": example}
    for name, example in AUTHORIZE_PARAMETERS
]  # fmt: skip


def wants_html(request: Request) -> bool:
    """A browser navigating (``text/html`` accepted) rather than a wallet's client."""
    return "text/html" in request.headers.get("accept", "")


def see_other(location: str) -> Response:
    """303 to ``location`` (RFC 9110 §15.4.4: the browser GETs it), never cached."""
    return RedirectResponse(location, status_code=303, headers=NO_STORE)


def wants_json(request: Request) -> bool:
    """A wallet's client asking for JSON (and not a browser)."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def answered(request: Request, location: str) -> Response:
    """The Authorization Response: 303 to ``location``, or, for a wallet's client asking
    for JSON at the sign-in, ``{"redirect_to": location}``."""
    if wants_json(request) and request.method == "POST":
        return JSONResponse({"redirect_to": location}, headers=NO_STORE)
    return see_other(location)


def refused(request: Request, vci: Vci, refusal: Refusal) -> Response:
    """A refusal: redirected to the client when allowed, else shown."""
    exc = refusal.error
    if refusal.redirect is not None:
        params = {"error": exc.error, "error_description": exc.detail, "state": refusal.state}
        return answered(request, answer_uri(vci, refusal.redirect, params))
    return shown(request, exc)


def shown(request: Request, exc: IdentityError, **extra: Any) -> Response:
    """An error for the person: the error page, or problem+json; ``no-store`` either way."""
    if wants_html(request):  # a page, with the problem's status
        return error_page(request, status_for(exc), exc.detail)
    members = {"error": exc.error} if isinstance(exc, Oid4vciError) else {}
    response = problem_for(exc, **members, **extra)
    response.headers.update(NO_STORE)
    return response


def started_json(vci: Vci, started: Started) -> JSONResponse:
    """What a wallet signs: the challenge, the domain, and where to POST the sign-in."""
    auth = started.auth
    return JSONResponse(
        {
            "request_id": auth.id,
            "sign_in_uri": vci.url(f"/oid4vci/authorize/{auth.id}"),
            "challenge": started.challenge,
            "domain": vci.settings.public_url.split("://", 1)[-1].split("/", 1)[0],
            "expires": started.expires.isoformat(),
            "credential_configuration_ids": list(auth.configuration_ids),
        },
        headers=NO_STORE,
    )


@router.get("/oid4vci/authorize", openapi_extra={"parameters": PARAMETERS})
def authorize(request: Request, vci: Vci) -> Response:
    """Authorization Request (OID4VCI §5.1, RFC 6749 §4.1.1, PKCE S256): the sign-in
    page of the offer's citizen, or its challenge as JSON for a wallet."""
    try:
        started = start(vci, list(request.query_params.multi_items()))
    except Refusal as refusal:
        return refused(request, vci, refusal)
    if wants_html(request):
        return sign_in_page(request, vci, started)
    return started_json(vci, started)


@router.post(
    "/oid4vci/par",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {FORM: {"schema": {"type": "object", "required": ["client_id"],
                        "additionalProperties": {"type": "string"}}}}
        }
    },
)  # fmt: skip
async def pushed_authorization_request(request: Request, vci: Vci) -> Response:
    """Pushed Authorization Request (RFC 9126 §2): the Authorization Request's parameters
    form-encoded -> 201 ``request_uri`` (one-time) and ``expires_in``; OAuth JSON errors."""

    async def run() -> tuple[int, Any]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = await read_capped(request, MAX_FORM_BYTES) if media == FORM else None
        if raw is None:
            raise InvalidRequest(f"the request is {FORM}, at most {MAX_FORM_BYTES} bytes")
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise InvalidRequest("the request body is not form-encoded") from None
        return 201, push(vci, pairs)

    return await oauth(run)


@router.post(
    "/oid4vci/authorize/{request_id}",
    openapi_extra={
        "requestBody": {
            "content": {FORM: {"schema": {"type": "object", "required": ["presentation"],
                        "properties": {"presentation": {"type": "string"}}}}}
        }
    },
)  # fmt: skip
async def authorize_sign_in(request_id: str, request: Request, vci: Vci) -> Response:
    """The citizen signs in: a DID-auth presentation (``proofPurpose: authentication``)
    over this request's challenge, with this service's domain, by the offer's citizen."""
    try:
        vp = await _presentation(request)
        return answered(request, await sign_in(vci, request_id, vp))
    except Refusal as refusal:
        return refused(request, vci, refusal)
    except PresentationNotVerified as exc:
        return shown(request, exc, checks=[c.name for c in exc.failed])
    except IdentityError as exc:
        return shown(request, exc)


async def _presentation(request: Request) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM:
        raise InvalidRequest(f"the sign-in is {FORM}")
    raw = await read_capped(request, 16 * MAX_FORM_BYTES)
    if raw is None:
        raise InvalidRequest(f"the sign-in exceeds {16 * MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        value = json.loads(dict(pairs)["presentation"])
    except (UnicodeDecodeError, ValueError, KeyError):
        raise MalformedValueError("presentation is the signed presentation (JSON)") from None
    if not isinstance(value, dict):
        raise MalformedValueError("presentation is a JSON object")
    return value
