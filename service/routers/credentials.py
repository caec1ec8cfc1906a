"""``POST /credentials/issue`` and ``POST /credentials/verify`` in the VC-API shape."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from identity.credentials.status import StatusMessages
from identity.credentials.verifier import CredentialNotVerified
from identity.errors import AuthenticationError, IdentityError
from identity.stores import IssuerRecord
from schemas.api import IssueRequest, IssueResponse, VerifyRequest, VerifyResponse
from service.agency_keys import verification_method
from service.auth import authenticate_agency, bearer
from service.container import Services, Svc, read_json, require_object
from service.log import receipt_json
from service.observability import issuing, verification
from service.offline import run_verification
from service.problems import check_result, problem_for
from service.request_versions import one_read
from service.routers import body_schema, check_envelope

router = APIRouter(tags=["credentials"])


async def issue_credential(
    svc: Services, issuer: IssuerRecord, body: dict[str, Any], request: Request | None = None
) -> dict[str, Any]:
    """Issue ``body`` (VC-API ``{credential, options}``) as ``issuer``: the one issuance
    path, for ``POST /credentials/issue`` (``request`` counts it in the metrics) and
    ``identity bulk issue``."""
    check_envelope(IssueRequest, body)
    suite = svc.verification.suite_for(body.get("options"))
    envelope = svc.verification.enveloping.media_type(body.get("options"))  # None: Data Integrity
    label = envelope or suite.cryptosuite or suite.proof_type
    counted = issuing(request, label) if request else nullcontext()
    secure = (
        svc.verification.enveloping.securer(
            envelope,
            issuer,
            svc.issuance.keys.signing_key(issuer),
            verification_method(issuer),
            svc.clock.now,
        )
        if envelope
        else None
    )
    with counted:
        signed, receipt, record = await svc.issuance.issuer.issue(
            body["credential"],
            issuer=issuer,
            key=svc.issuance.keys.signing_key(issuer),
            verification_method=verification_method(issuer),
            suite=suite,
            assign_status=lambda suspendable: svc.issuance.status.assign(
                issuer, suspendable, _messages(svc, body["credential"])
            ),
            policy=lambda document: svc.trust.prepare_issuance(document, issuer.id),
            secure=secure,
        )
    await svc.issuance.wallet.keep(record, signed)  # issue #14: the hosted wallet
    out: dict[str, Any] = {"verifiableCredential": signed.json, "credentialId": record.id}
    if receipt is not None:
        if svc.logs.anchors.observer is not None:  # the issuer builds this receipt itself
            svc.logs.anchors.observer("credential.issued")
        out["receipt"] = receipt_json(receipt)
        options = body.get("options") or {}
        if options.get("waitForCheckpoint") is True:
            out["receipt"] |= await svc.logs.anchors.with_inclusion(receipt)
    return out


@router.post(
    "/credentials/issue",
    status_code=201,
    response_model=IssueResponse,
    openapi_extra=body_schema(IssueRequest),
)
async def issue(request: Request, svc: Svc) -> JSONResponse:
    """Agency API key with the ``issue`` scope. Signs the credential with the agency's key."""
    agency = authenticate_agency(request, svc)
    agency.require("issue")
    body = require_object(await read_json(request), "body")
    issuer = svc.trust.issuer(agency.issuer_id)
    return JSONResponse(await issue_credential(svc, issuer, body, request), status_code=201)


def _messages(svc: Svc, credential: Any) -> StatusMessages | None:
    """The named states of the credential's type (its first type after
    VerifiableCredential, as its record keeps it), with this service's reference page
    unless the type names its own."""
    types = credential.get("type") if isinstance(credential, dict) else None
    listed = types if isinstance(types, list) else [types]
    name = next((t for t in listed if t != "VerifiableCredential"), "VerifiableCredential")
    messages = svc.issuance.status.messages_for(str(name))
    if messages is None or messages.references:
        return messages
    return replace(messages, references=(svc.issuance.status.reference(str(name)),))


@router.post(
    "/credentials/verify",
    response_model=VerifyResponse,
    openapi_extra=body_schema(VerifyRequest),
    responses={400: {"description": "malformed credential"}, 422: {"description": "not verified"}},
)
async def verify(request: Request) -> JSONResponse:
    """Public. 200 only when every check passes; 400/422 problem+json naming each failure.

    The hottest route takes the services from the app's state rather than as the ``Svc``
    dependency: FastAPI then solves no dependency per request (issue #15; the OpenAPI
    document is the same, a ``Request`` parameter declares nothing). service/fastpath.py
    calls it past the router. Every version the request keys its caches on -- the trust
    snapshot of the API key and the ``issuerTrust`` check, the versions of the status
    lists the credential names -- comes from ONE store round trip
    (service/request_versions.py). So a caller whose bearer credential was accepted here
    lately (:class:`service.auth.KnownBearers`) has the body read before the credential is
    judged again (its lists must be known first); the answer's precedence is unchanged:
    a refused credential (401, 429) before a bad body (400, 413, 415). Any other bearer
    is judged first, and an anonymous caller rate-limited first, before the body is read."""
    svc: Services = request.app.state.services
    token = bearer(request)
    known = token is not None and svc.access.known_bearers.holds(token)
    if not known:
        # Anonymous: rate-limited (reads nothing). A bearer not accepted here lately is
        # judged before its body is read (its own round trip): a wrong one is 401 unread.
        svc.limit_anonymous(request)
        if token is not None:
            svc.access.known_bearers.accepted(token)
    refused: IdentityError | None = None
    body: dict[str, Any] = {}
    try:
        body = require_object(await read_json(request), "body")
    except IdentityError as exc:
        if not known:
            raise
        refused = exc  # the credential is judged first, under the one version read
    lists = svc.issuance.status.lists_named([body.get("verifiableCredential")])
    with one_read(svc, lists):
        if known:
            try:
                svc.limit_anonymous(request)
            except AuthenticationError:
                svc.access.known_bearers.forget(str(token))  # revoked: judged first again
                raise
        if refused is not None:
            raise refused
        return await _verify(request, svc, body)


async def _verify(request: Request, svc: Services, body: dict[str, Any]) -> JSONResponse:
    """:func:`verify` of the request's ``body`` under its one version read."""
    check_envelope(VerifyRequest, body)
    options = body.get("options") or {}
    try:
        verified = await run_verification(
            lambda: svc.verification.enveloping.verifier.verify(
                body["verifiableCredential"], options
            )
        )
    except CredentialNotVerified as exc:
        verification(request, body["verifiableCredential"], [c.name for c in exc.failed])
        return problem_for(
            exc,
            verified=False,
            checks=[c.name for c in exc.checks],
            results={c.name: check_result(c) for c in exc.checks},
        )
    verification(request, body["verifiableCredential"])
    return JSONResponse(
        {
            "verified": True,
            "checks": [c.name for c in verified.checks],
            "results": {c.name: check_result(c) for c in verified.checks},
            "problemDetails": [],
            "warnings": [],
        }
    )
