"""Citizens: DID authentication and the wallet view of their own credentials.

A citizen asks for a challenge, signs a small presentation with their DID's key
(``proofPurpose: authentication``, the challenge and this service's domain), and gets a
short-lived token scoped to that DID. The challenge is stored for login only: one from
``POST /challenges`` (a verifier's) never logs anyone in, and a login challenge never
verifies a presentation. The domain is this service's own (``IDENTITY_PUBLIC_URL``).

Failures are 422 with the VC-DI problem type of the failed check (bad signature, wrong
domain, a spent, expired, unknown or another purpose's challenge): ``/auth/token`` needs no
credential, so 401 (``WWW-Authenticate``) does not apply -- see docs/security.md.

With the token they list the credentials issued to them (``credentialSubject.id`` = their
DID) with status and log receipts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from identity.credentials.presentations import PresentationNotVerified, verify_presentation
from identity.errors import InvalidDomainError, MalformedValueError, NotFoundError
from identity.stores import LOGIN, CredentialRecord
from schemas.api import TokenRequest
from service.auth import authenticate_citizen
from service.container import Services, Svc, read_json, require_object
from service.offline import run_verification
from service.problems import problem_for
from service.routers import body_schema, check_envelope

router = APIRouter(tags=["citizens"])


def domain_of(svc: Services) -> str:
    """This service's domain as a login proof must name it: the host (and port) of the public
    URL, never taken from the request."""
    return urlsplit(svc.settings.public_url).netloc


@router.post("/auth/challenge", status_code=201)
def auth_challenge(svc: Svc) -> JSONResponse:
    """Step 1: a single-use challenge and the domain to sign into the presentation."""
    value, expires = svc.access.challenges.new(LOGIN)
    return JSONResponse(
        {"challenge": value, "domain": domain_of(svc), "expires": expires.isoformat()},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/auth/token", openapi_extra=body_schema(TokenRequest))
async def auth_token(request: Request, svc: Svc) -> JSONResponse:
    """Step 2: a presentation signed by the holder's DID -> a token scoped to that DID."""
    body = require_object(await read_json(request), "body")
    check_envelope(TokenRequest, body)
    vp = body["verifiablePresentation"]
    proof = vp.get("proof")
    challenge = proof.get("challenge") if isinstance(proof, dict) else None
    holder = vp.get("holder")
    if not isinstance(challenge, str) or not isinstance(holder, str):
        raise MalformedValueError("the presentation needs a holder and a proof with a challenge")
    if proof.get("domain") not in (domain_of(svc), [domain_of(svc)]):
        # VC-DI lets a proof name several domains; a login names this service's alone.
        raise InvalidDomainError(
            "a login proof names this service's domain and no other", domain=domain_of(svc)
        )
    try:
        await run_verification(
            lambda: verify_presentation(
                vp,
                registry=svc.verification.registry,
                resolver=svc.verification.resolver,
                verifier=svc.verification.verifier,
                challenge=challenge,
                domain=domain_of(svc),
            )
        )
    except PresentationNotVerified as exc:
        return problem_for(exc, checks=[c.name for c in exc.failed])
    svc.store.consume_challenge(challenge, LOGIN, svc.clock.now())
    token, expires = svc.tokens.issue(holder, svc.clock.now())
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "did": holder,
            "expires": expires.isoformat(),
        },
        headers={"Cache-Control": "no-store"},
    )


def _entry(svc: Services, record: CredentialRecord, held: set[str]) -> dict[str, Any]:
    status: dict[str, bool] = {}
    if record.status_group is not None and record.status_index is not None:
        status = svc.issuance.status.current(record.status_group, record.status_index)
    return {
        "id": record.id,
        "type": record.type,
        "issuer": record.issuer_did,
        "issued": record.issued_at.isoformat(),
        "digest": record.digest.hex(),
        "status": status,
        "receipt": {"logIndex": record.log_index} if record.log_index is not None else None,
        # issue #14: the hosted wallet keeps it, so GET …/qr renders it (service/web/qr.py)
        "held": record.id in held,
    }


@router.get("/wallet/credentials")
def wallet(request: Request, svc: Svc) -> list[dict[str, Any]]:
    """The citizen's own credentials, with their status and log receipts."""
    did = authenticate_citizen(request, svc)
    held = svc.issuance.wallet.held(did)
    return [_entry(svc, r, held) for r in svc.store.credentials_of_subject(did)]


@router.get("/wallet/credentials/{credential_id:path}")
def wallet_credential(credential_id: str, request: Request, svc: Svc) -> dict[str, Any]:
    """One of the citizen's credentials; another citizen's is 404 (no existence leak)."""
    did = authenticate_citizen(request, svc)
    record = svc.store.find_credential(credential_id)
    if record is None or record.subject_id != did:
        raise NotFoundError("no such credential in your wallet")
    return _entry(
        svc, record, {record.id} if svc.issuance.wallet.store.find(did, record.id) else set()
    )
