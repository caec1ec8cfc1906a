"""``POST /challenges`` and ``POST /presentations/verify`` (VC-API shape).

A challenge from ``POST /challenges`` is bound to the caller that asked for it (its API
key, the operator, or anonymous) and serves only that caller's presentation
verification; it never logs anyone in (``/auth/token`` takes only login challenges).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from identity.credentials.presentations import PresentationNotVerified, verify_presentation
from identity.errors import InvalidChallengeError, MalformedValueError
from identity.jose.envelope import is_enveloped
from identity.jose.vcjose import verify_enveloped_presentation
from identity.stores import presentation_purpose
from schemas.api import VerifyPresentationRequest
from service.auth import identify
from service.container import Svc, read_json, require_object
from service.offline import run_verification
from service.problems import check_result, problem_for
from service.routers import body_schema, check_envelope

router = APIRouter(tags=["presentations"])


@router.post("/challenges", status_code=201)
async def create_challenge(request: Request, svc: Svc) -> JSONResponse:
    """A single-use challenge a holder must sign into its presentation within 5 minutes,
    for ``/presentations/verify`` by this same caller (same API key, or anonymous)."""
    value, expires = svc.access.challenges.new(presentation_purpose(identify(request, svc).name))
    return JSONResponse(
        {"challenge": value, "expires": expires.isoformat()},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/presentations/verify", openapi_extra=body_schema(VerifyPresentationRequest))
async def verify(request: Request, svc: Svc) -> JSONResponse:
    """200 when the holder proof matches the challenge/domain and every credential
    verifies; otherwise 400/422 problem+json naming the failed credential and check."""
    purpose = presentation_purpose(identify(request, svc).name)
    svc.limit_anonymous(request)
    body = require_object(await read_json(request), "body")
    check_envelope(VerifyPresentationRequest, body)
    options = body.get("options") or {}
    challenge, domain = options.get("challenge"), options.get("domain")
    if not isinstance(challenge, str) or not challenge:
        raise MalformedValueError("options.challenge is required", field="options.challenge")
    if domain is not None and not isinstance(domain, str):
        raise MalformedValueError("options.domain must be a string", field="options.domain")
    enveloped = is_enveloped(body["verifiablePresentation"], "vp")
    verify_vp = verify_enveloped_presentation if enveloped else verify_presentation
    try:
        verified = await run_verification(
            lambda: verify_vp(
                body["verifiablePresentation"],
                registry=svc.verification.registry,
                resolver=svc.verification.resolver,
                verifier=svc.verification.enveloping.verifier,
                challenge=challenge,
                domain=domain,
                options=options,
            )
        )
    except PresentationNotVerified as exc:
        return problem_for(
            exc,
            verified=False,
            checks=[c.name for c in exc.checks],
            results={c.name: check_result(c) for c in exc.checks},
            problemDetails=[
                {
                    "check": c.name,
                    "type": c.error.type_uri,
                    "title": c.error.title,
                    "detail": c.error.detail,
                }
                for c in exc.failed
                if c.error is not None
            ],
            credentialResults={
                str(i): [check_result(c) | {"check": c.name} for c in failed]
                for i, failed in exc.credentials.items()
            },
        )
    # Only a presentation that verified uses its challenge up (single use, replay-proof).
    try:
        svc.store.consume_challenge(challenge, purpose, svc.clock.now())
    except InvalidChallengeError as exc:
        caller_owned = svc.settings.accept_caller_challenges and exc.data.get("reason") == "unknown"
        if not caller_owned:
            return problem_for(
                exc,
                verified=False,
                checks=["challenge"],
                problemDetails=[
                    {
                        "check": "challenge",
                        "type": exc.type_uri,
                        "title": exc.title,
                        "detail": exc.detail,
                    }
                ],
            )
    return JSONResponse(
        {
            "verified": True,
            "holder": verified.holder,
            "checks": ["wellFormed", "holderProof", "credentials", "challenge"],
            "credentials": len(verified.credentials),
            "problemDetails": [],
        }
    )
