"""The OpenAPI document, completed from one table of operations.

FastAPI derives paths and parameters from the routes; :data:`OPERATIONS` adds what it
cannot know, one row per operation: who may call it (security schemes), the success
body (a model from ``schemas/``) and its media type, the domain errors the handler
raises, and an example request body. :func:`complete` turns a row into the document:

- every error is ``application/problem+json`` with the problem ``type`` URLs it may
  carry, derived from the error tree (``identity/errors.py``) and the one status table
  (``service/problems.py``): declaring a class declares its whole subtree, each type
  under the status it maps to;
- errors every operation of a kind can meet are added from what the operation is:
  a request body (400, 413, 415, 422), path parameters (404), typed or required query
  parameters (422), authentication (401, 403), the anonymous rate limit (429), a
  store (503), and a bug (500);
- JSON Schema ``$defs`` are hoisted into ``components/schemas`` (no dangling ``$ref``)
  and components nobody references are dropped.

A route missing from the table keeps FastAPI's bare description; the test
``tests/service/test_openapi.py`` fails until it has a row.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from identity import errors as e
from identity.credentials.presentations import PresentationNotVerified
from identity.credentials.verifier import CredentialNotVerified
from identity.log.shards import UnknownShardError
from identity.oid4vci.errors import Oid4vciError
from schemas import responses as r
from schemas.api import CreatedIssuer, Health, IssuerView, ProblemDetails, VerifyResponse
from schemas.batch import BatchVerifyResponse
from schemas.log_shards import LogShards
from schemas.oid4vci import (
    AuthorizationAnswer,
    AuthorizationStarted,
    OfferRequest,
    OfferStatus,
    PushedRequest,
)
from schemas.oid4vp import (
    CreatePresentationRequest,
    DirectPostAnswer,
    OAuthError,
    PresentationRequestCreated,
    PresentationResult,
)
from schemas.sdjwt import SdJwtIssued, SdJwtIssueRequest, SdJwtVerified, SdJwtVerifyRequest
from service import problems
from service.openapi_examples import EXAMPLES, NAMED_EXAMPLES
from service.ratelimit import RateLimitedError

COMPONENTS = "#/components/schemas/"
INTERNAL = e.PROBLEMS + "internal"  # service/problems.py's answer to an unexpected exception
JSON = "application/json"

# -- who may call ------------------------------------------------------------------------

OPERATOR, AGENCY, VERIFIER, CITIZEN = "operatorToken", "agencyKey", "verifierKey", "citizenToken"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    OPERATOR: {
        "type": "http",
        "scheme": "bearer",
        "description": "The operator's admin token (IDENTITY_ADMIN_TOKEN).",
    },
    AGENCY: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ik_<keyId>.<secret>",
        "description": "An agency API key (scopes issue, revoke, read, accredit, share); "
        "made by POST /issuers and POST /issuers/{issuer_id}/keys.",
    },
    VERIFIER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ik_<keyId>.<secret>",
        "description": "A verifier API key (scope verify, from POST /verifiers): lifts the "
        "anonymous rate limit of the public verification routes.",
    },
    CITIZEN: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ct_<payload>.<mac>",
        "description": "A citizen's short-lived token for their own DID, from "
        "POST /auth/challenge then POST /auth/token.",
    },
}

# -- the table ---------------------------------------------------------------------------

Errors = tuple[type[e.IdentityError], ...]


@dataclass(frozen=True)
class Op:
    """What the document says of one operation beyond what FastAPI derives.

    ``auth``: the schemes that may call it (any one); empty for public operations.
    ``anonymous``: callers without credentials are served too (rate-limited when
    ``limited``). ``ok``: the success body (a model, a list of one, or None for no
    body) served as ``media`` (several media types comma-separated). ``errors``: the
    domain errors the handler raises itself.
    ``failure``: extension members of its problem documents (verification results).
    ``body``: the request body of a route that reads one without declaring it.
    ``pages``: its errors are also ``text/html`` pages (for a browser).
    """

    ok: Any
    auth: tuple[str, ...] = ()
    anonymous: bool = False
    limited: bool = False
    errors: Errors = ()
    media: str = JSON
    store: bool = True
    body_required: bool = True
    failure: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    extra: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: a browser (``Accept: text/html``) gets every error as a page with the same status
    pages: bool = False


class VerificationFailure(BaseModel):
    """Members a failed verification's problem document adds (VC-API)."""

    verified: bool = False
    checks: list[str] = []
    results: dict[str, Any] = {}
    problemDetails: list[dict[str, Any]] = []


class PresentationFailure(VerificationFailure):
    """A failed presentation also names each failed embedded credential's checks."""

    credentialResults: dict[str, list[dict[str, Any]]] = {}


READ = (e.NotFoundError,)
#: OpenID4VCI / OAuth endpoints answer errors as RFC 6749 §5.2 JSON, not problem+json
OAUTH_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
#: the paths whose 400/401 are OAuth error JSON (the rest of their errors: problem+json)
OAUTH_PATHS = frozenset(
    "/oid4vci/" + name
    for name in ("token", "credential", "deferred_credential", "notification", "par")
)
OAUTH_ERRORS: dict[int, dict[str, Any]] = {
    400: {
        "description": "OAuth error (RFC 6749 §5.2; OID4VCI §6.3, §8.3.1.2, §9.3, §11.3)",
        "content": {JSON: {"schema": OAUTH_ERROR_SCHEMA}},
    }
}
OAUTH_401: dict[int, dict[str, Any]] = {
    401: {
        "description": "invalid_token (RFC 6750 §3.1)",
        "content": {JSON: {"schema": OAUTH_ERROR_SCHEMA}},
    }
}

#: OID4VCI §8.3 / §9.2: a deferred credential is answered 202 with its transaction id
DEFERRED: dict[int, dict[str, Any]] = {
    202: {
        "description": "Deferred: the agency has not approved yet (OID4VCI §8.3, §9.2)",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["transaction_id", "interval"],
                    "properties": {
                        "transaction_id": {"type": "string"},
                        "interval": {"type": "integer"},
                    },
                }
            }
        },
    }
}

#: the Authorization Endpoint answers with a redirect to the wallet (RFC 6749 §4.1.2)
SEE_OTHER: dict[int, dict[str, Any]] = {
    303: {
        "description": "To the wallet's redirect_uri with code, state and iss (RFC 9207), "
        "or with error, error_description, state and iss (RFC 6749 §4.1.2.1)",
        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
    }
}
#: the sign-in page, or (``Accept: application/json``) what a wallet signs
SIGN_IN_PAGE: dict[int, dict[str, Any]] = {
    200: {
        "description": "The citizen's sign-in page; for a wallet asking for JSON, the "
        "challenge to sign and where to POST the sign-in",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            JSON: {"schema": {"$ref": COMPONENTS + "AuthorizationStarted"}},
        },
    },
    **SEE_OTHER,
}

SHARING = (e.SharingStateError, e.NotFoundError, e.LogProofError)
VERIFY = (CredentialNotVerified, e.InputError)
DID_WRITE = (e.InputError, e.VerificationError, e.ConflictError, e.NotFoundError)
RESOLVE = (e.InvalidDidError, e.MalformedValueError, e.NotFoundError, e.DidResolutionError)
LOG_READ = (e.MalformedValueError, e.RangeError, e.NotFoundError)
DID_LD = "application/did+ld+json"
RESOLUTION = 'application/ld+json;profile="https://w3id.org/did-resolution"'
AGENCY_OR_OPERATOR = (OPERATOR, AGENCY)

OAUTH_ERROR = {
    "description": "OAuth error (OpenID4VP 1.0 §8.5): invalid_request; nothing recorded",
    "content": {JSON: {"schema": {"$ref": COMPONENTS + "OAuthError"}}},
}
OAUTH_ERROR_URI = {
    "description": "OAuth error invalid_request_uri (RFC 9101): answered, expired or unknown",
    "content": {JSON: {"schema": {"$ref": COMPONENTS + "OAuthError"}}},
}

OPERATIONS: dict[tuple[str, str], Op] = {
    ("GET", "/health/live"): Op(r.Live, store=False),
    ("GET", "/health"): Op(Health),
    ("GET", "/issuers"): Op([IssuerView]),
    ("POST", "/issuers"): Op(CreatedIssuer, auth=(OPERATOR,), errors=(e.ConflictError,)),
    ("GET", "/issuers/{issuer_id}"): Op(IssuerView),
    ("POST", "/issuers/{issuer_id}/keys"): Op(r.NewApiKey, auth=(OPERATOR,), body_required=False),
    ("DELETE", "/issuers/{issuer_id}/keys/{key_id}"): Op(None, auth=(OPERATOR,)),
    ("POST", "/verifiers"): Op(r.NewVerifierKey, auth=(OPERATOR,)),
    ("DELETE", "/verifiers/{key_id}"): Op(None, auth=(OPERATOR,), errors=(e.NotFoundError,)),
    ("GET", "/credential-types"): Op([r.CredentialTypeView]),
    ("POST", "/credential-types"): Op(
        r.RegisteredType, auth=(OPERATOR,), errors=(e.ConflictError,)
    ),
    ("GET", "/credential-types/{name}"): Op(r.CredentialTypeView),
    ("GET", "/credential-types/{name}/schema"): Op(r.Document, media="application/schema+json"),
    ("GET", "/contexts/city/v1"): Op(r.Document, media="application/ld+json", store=False),
    ("POST", "/accreditations"): Op(
        r.AnchoredAccreditation,
        auth=AGENCY_OR_OPERATOR,
        errors=(e.NotFoundError, e.ConflictError, e.InputError),
    ),
    ("GET", "/accreditations"): Op([r.AccreditationView]),
    ("GET", "/accreditations/{accreditation_id}"): Op(r.AccreditationView),
    ("POST", "/accreditations/{accreditation_id}/revoke"): Op(
        r.AnchoredAccreditation, auth=AGENCY_OR_OPERATOR, errors=(e.ConflictError,)
    ),
    ("POST", "/credentials/issue"): Op(
        r.IssuedCredential,
        auth=(AGENCY,),
        errors=(
            e.InputError,
            e.MalformedProofError,  # a credential that already carries a malformed proof
            e.ConflictError,
            e.ProofGenerationError,
            e.NotFoundError,
            e.SealedKeyError,  # the agency's key does not open: nothing signed
            e.RelatedResourceError,  # a relatedResource digest that does not match
        ),
    ),
    ("POST", "/credentials/verify"): Op(
        VerifyResponse,
        auth=(VERIFIER,),
        anonymous=True,
        limited=True,
        errors=VERIFY,
        failure=VerificationFailure,
    ),
    ("POST", "/credentials/verify/batch"): Op(
        BatchVerifyResponse, auth=(VERIFIER,), errors=(e.InputError, e.PayloadTooLargeError)
    ),
    ("GET", "/status-lists/{group}/{purpose}"): Op(
        r.Document,
        media="application/vc+ld+json",
        errors=(e.SealedKeyError,),
        extra={304: {"description": "Not modified (If-None-Match matched the ETag)"}},
    ),
    ("GET", "/status-messages/{credential_type}"): Op(r.Document, errors=(e.NotFoundError,)),
    ("GET", "/metrics"): Op(
        str, auth=(OPERATOR,), media="text/plain", store=False, errors=(e.NotFoundError,)
    ),
    ("POST", "/credentials/status"): Op(
        r.StatusUpdate,
        auth=(AGENCY,),
        errors=(e.ConflictError, e.NotFoundError, e.SealedKeyError),
    ),
    ("POST", "/challenges"): Op(r.Challenge),
    ("POST", "/presentations/verify"): Op(
        r.PresentationVerified,
        auth=(VERIFIER,),
        anonymous=True,
        limited=True,
        errors=(PresentationNotVerified, e.InvalidChallengeError, e.InputError),
        failure=PresentationFailure,
    ),
    ("POST", "/auth/challenge"): Op(r.LoginChallenge),
    ("POST", "/auth/token"): Op(
        r.CitizenToken,
        errors=(e.AuthenticationError, e.VerificationError, e.InputError),
    ),
    ("GET", "/wallet/credentials"): Op([r.WalletCredential], auth=(CITIZEN,)),
    ("GET", "/wallet/credentials/{credential_id}"): Op(r.WalletCredential, auth=(CITIZEN,)),
    ("GET", "/wallet/credentials/{credential_id}/qr"): Op(  # issue #14: the hosted wallet's
        bytes,
        auth=(CITIZEN,),
        media="image/svg+xml,image/png",  # ?format=svg|png, else by Accept
        errors=(e.NotFoundError, e.InputError),
    ),
    ("POST", "/wallet/credentials/{credential_id}/qr"): Op(
        bytes,
        auth=(CITIZEN,),
        media="image/svg+xml,image/png",  # ?format=svg|png
        errors=(e.NotFoundError, e.InputError),
        body=r.Document,
    ),
    ("POST", "/dids"): Op(
        r.DidOperationResult, auth=(VERIFIER,), anonymous=True, limited=True, errors=DID_WRITE
    ),
    ("POST", "/dids/{did}/operations"): Op(
        r.DidOperationResult, auth=(VERIFIER,), anonymous=True, limited=True, errors=DID_WRITE
    ),
    ("GET", "/dids/{did}/operations"): Op([r.DidOperationEntry], errors=RESOLVE),
    ("GET", "/dids/{did}"): Op(r.DidResolutionResult, media=RESOLUTION, errors=RESOLVE),
    ("GET", "/1.0/identifiers/{did}"): Op(r.DidResolutionResult, store=False),  # see below
    ("GET", "/agencies/{issuer_id}/did.json"): Op(r.Document, media=DID_LD),
    ("POST", "/catalog"): Op(
        r.PublishedEntry, auth=(AGENCY,), errors=(e.InputError, e.NotFoundError)
    ),
    ("GET", "/catalog"): Op([r.CatalogEntryView]),
    ("GET", "/catalog/{entry_id}"): Op(r.CatalogEntryView),
    ("GET", "/catalog/{entry_id}/versions"): Op([r.CatalogEntryView]),
    ("GET", "/catalog/{entry_id}/versions/{version}"): Op(r.CatalogEntryView),
    ("GET", "/sharing/requests"): Op([r.SharingRequestView], auth=(AGENCY,)),
    ("POST", "/sharing/requests"): Op(
        r.SharingAct,
        auth=(AGENCY,),
        errors=(e.InputError, e.NotFoundError, e.DidResolutionError),
    ),
    ("GET", "/sharing/requests/{request_id}"): Op(
        r.TracedOne, auth=(AGENCY, CITIZEN), errors=(e.LogProofError,)
    ),
    ("GET", "/sharing/requests/{request_id}/consent-template"): Op(
        r.Document, auth=(CITIZEN,), errors=(e.MalformedValueError, *SHARING)
    ),
    ("POST", "/sharing/requests/{request_id}/consent"): Op(
        r.SharingAct,
        auth=(CITIZEN,),
        errors=(e.InvalidConsentError, e.InputError, *SHARING),
        body=r.Document,
    ),
    ("POST", "/sharing/requests/{request_id}/withdraw"): Op(
        r.SharingAct,
        auth=(CITIZEN,),
        errors=(e.InvalidConsentError, e.InputError, *SHARING),
        body_required=False,  # an empty body withdraws on the login token alone
        body=r.Document,
    ),
    ("POST", "/sharing/requests/{request_id}/exemption"): Op(
        r.SharingAct, auth=(OPERATOR,), errors=(e.InputError, *SHARING)
    ),
    ("POST", "/sharing/requests/{request_id}/approve"): Op(
        r.SharingAct, auth=(AGENCY,), errors=SHARING
    ),
    ("POST", "/sharing/requests/{request_id}/accesses"): Op(
        r.SharingAct, auth=(AGENCY,), errors=(e.InputError, *SHARING)
    ),
    ("GET", "/wallet/access-history"): Op(
        r.AccessHistory, auth=(CITIZEN,), errors=(e.LogProofError,)
    ),
    ("GET", "/sharing/stats"): Op(r.SharingStats, auth=(OPERATOR,)),
    ("GET", "/log/checkpoint"): Op(str, media="text/plain"),
    ("GET", "/log/entries/{index}"): Op(r.LogEntry, errors=LOG_READ),
    ("GET", "/log/proofs/inclusion"): Op(r.InclusionProof, errors=LOG_READ),
    ("GET", "/log/proofs/consistency"): Op(r.ConsistencyProof, errors=LOG_READ),
    ("GET", "/log/tile/{path}"): Op(bytes, media="application/octet-stream", errors=LOG_READ),
    ("GET", "/log/key"): Op(r.LogKey),
    # -- log shards (issue #16, docs/log-shards.md) --
    ("GET", "/log/shards"): Op(LogShards),
    ("GET", "/log/{shard}/checkpoint"): Op(str, media="text/plain", errors=(UnknownShardError,)),
    ("GET", "/log/{shard}/entries/{index}"): Op(r.LogEntry, errors=LOG_READ),
    ("GET", "/log/{shard}/proofs/inclusion"): Op(r.InclusionProof, errors=LOG_READ),
    ("GET", "/log/{shard}/proofs/consistency"): Op(r.ConsistencyProof, errors=LOG_READ),
    ("GET", "/log/{shard}/tile/{path}"): Op(
        bytes, media="application/octet-stream", errors=LOG_READ
    ),
    # -- SD-JWT VC (issue #17) --
    ("POST", "/credentials/sd-jwt/issue"): Op(
        SdJwtIssued,
        auth=(AGENCY,),
        body=SdJwtIssueRequest,
        errors=(
            e.InputError,
            e.InvalidVerificationMethodError,
            e.NotFoundError,
            e.SealedKeyError,
        ),
    ),
    ("POST", "/credentials/sd-jwt/verify"): Op(
        SdJwtVerified,
        auth=(VERIFIER,),
        anonymous=True,
        limited=True,
        body=SdJwtVerifyRequest,
        errors=(e.InputError, e.VerificationError, e.NotFoundError),
    ),
    ("GET", "/.well-known/jwt-vc-issuer"): Op(r.Document, errors=(e.NotFoundError,)),
    ("GET", "/.well-known/jwt-vc-issuer/{tail}"): Op(r.Document, errors=(e.NotFoundError,)),
    ("GET", "/vct/{type_name}"): Op(r.Document, errors=(e.NotFoundError,)),
    ("GET", "/statuslists/{group}"): Op(
        str,
        media="application/statuslist+jwt",
        errors=(e.NotFoundError, e.SealedKeyError),
        extra={304: {"description": "Not modified (If-None-Match matched the ETag)"}},
    ),
    # -- OpenID4VCI 1.0 (issue #18, service/routers/oid4vci.py) --
    ("GET", "/.well-known/openid-credential-issuer"): Op(r.Document, errors=(e.NotFoundError,)),
    ("GET", "/.well-known/openid-credential-issuer/{tail}"): Op(
        r.Document, errors=(e.NotFoundError,)
    ),
    ("GET", "/.well-known/oauth-authorization-server"): Op(r.Document, errors=(e.NotFoundError,)),
    ("GET", "/.well-known/oauth-authorization-server/{tail}"): Op(
        r.Document, errors=(e.NotFoundError,)
    ),
    ("POST", "/oid4vci/offers"): Op(
        r.Document,
        auth=(AGENCY,),
        body=OfferRequest,
        errors=(e.InputError, e.PermissionDeniedError),
    ),
    ("POST", "/oid4vci/offers/{offer_id}/approve"): Op(
        r.Document, auth=(AGENCY,), body_required=False, errors=(e.ConflictError,)
    ),
    ("GET", "/oid4vci/offers/{offer_id}"): Op(r.Document, errors=(e.NotFoundError,)),
    ("GET", "/oid4vci/offers/{offer_id}/status"): Op(
        OfferStatus, auth=(AGENCY,), errors=(e.NotFoundError,)
    ),  # the counter page (docs/web.md) follows its offer
    ("GET", "/oid4vci/offers/{offer_id}/qr"): Op(
        bytes, media="image/svg+xml, image/png", errors=(e.NotFoundError, e.InputError)
    ),
    ("POST", "/oid4vci/token"): Op(r.Document, extra=OAUTH_ERRORS),
    ("POST", "/oid4vci/nonce"): Op(r.Document),
    ("POST", "/oid4vci/credential"): Op(
        r.Document, errors=(e.SealedKeyError,), extra={**DEFERRED, **OAUTH_ERRORS, **OAUTH_401}
    ),
    ("POST", "/oid4vci/deferred_credential"): Op(
        r.Document, errors=(e.SealedKeyError,), extra={**DEFERRED, **OAUTH_ERRORS, **OAUTH_401}
    ),
    ("POST", "/oid4vci/notification"): Op(None, extra={**OAUTH_ERRORS, **OAUTH_401}),
    # the authorization code flow (service/routers/oid4vci_authorize.py)
    ("GET", "/oid4vci/authorize"): Op(
        AuthorizationStarted, errors=(Oid4vciError,), pages=True, extra=SIGN_IN_PAGE
    ),
    ("POST", "/oid4vci/par"): Op(PushedRequest, extra=OAUTH_ERRORS),
    ("POST", "/oid4vci/authorize/{request_id}"): Op(
        AuthorizationAnswer,
        errors=(Oid4vciError, e.InputError, e.VerificationError, PresentationNotVerified),
        pages=True,
        extra=SEE_OTHER,
    ),
    # issue #18: OpenID4VP 1.0 (service/routers/oid4vp.py)
    ("POST", "/oid4vp/requests"): Op(
        PresentationRequestCreated,
        auth=(VERIFIER,),
        body=CreatePresentationRequest,
        errors=(e.InputError,),
    ),
    ("GET", "/oid4vp/requests/{request_id}/qr"): Op(
        bytes,
        auth=(VERIFIER,),
        media="image/svg+xml,image/png",
        errors=(e.NotFoundError, e.InputError),
    ),
    ("GET", "/oid4vp/requests/{request_id}/result"): Op(
        PresentationResult, auth=(VERIFIER,), errors=(e.NotFoundError, e.InputError)
    ),
    ("GET", "/oid4vp/requests/{request_id}/request.jwt"): Op(
        str, media="application/oauth-authz-req+jwt", extra={400: OAUTH_ERROR_URI}
    ),
    ("POST", "/oid4vp/requests/{request_id}/request.jwt"): Op(
        str, media="application/oauth-authz-req+jwt", extra={400: OAUTH_ERROR_URI}
    ),
    ("POST", "/oid4vp/responses/{request_id}"): Op(DirectPostAnswer, extra={400: OAUTH_ERROR}),
}

# The DID Resolution HTTP(S) binding answers with resolution results, never problem+json
# (service/routers/dids.py); these are its media types and statuses.
UNIVERSAL_RESOLVER = ("GET", "/1.0/identifiers/{did}")
DID_RESULT = "application/did-resolution"
DID_DEREFERENCED = "application/did-url-dereferencing"
RESOLVER_ERRORS = {
    400: "INVALID_DID or INVALID_OPTIONS",
    404: "NOT_FOUND",
    500: "INTERNAL_ERROR",
    501: "METHOD_NOT_SUPPORTED",
    502: "INVALID_DID_DOCUMENT, or INTERNAL_ERROR when a remote host failed",
}

# -- the error tree ----------------------------------------------------------------------


def status_of(cls: type[e.IdentityError]) -> int:
    """The status ``service/problems.py`` gives instances of ``cls`` (nearest ancestor)."""
    for ancestor in cls.__mro__:
        if ancestor in problems.STATUS:
            return problems.STATUS[ancestor]
    return 500


def subtree(cls: type[e.IdentityError]) -> Iterator[type[e.IdentityError]]:
    """``cls`` and every subclass below it, depth first (its problem types)."""
    yield cls
    for sub in cls.__subclasses__():
        yield from subtree(sub)


# A failed verification carries the problem type of its first failed check, which may be
# any type of the tree; a failed credential is 400 when it is not well formed, else 422.
DYNAMIC: dict[type[e.IdentityError], tuple[int, ...]] = {
    CredentialNotVerified: (400, 422),
    PresentationNotVerified: (422,),
}


def problem_types(errors: Errors) -> dict[int, set[str]]:
    """Status -> the problem type URLs the declared classes (and their subclasses) carry."""
    out: dict[int, set[str]] = {}
    for declared in errors:
        if declared in DYNAMIC:
            every = {c.type_uri for c in subtree(e.IdentityError)}
            for status in DYNAMIC[declared]:
                out.setdefault(status, set()).update(every)
            continue
        for cls in subtree(declared):
            if cls in DYNAMIC:
                continue
            out.setdefault(status_of(cls), set()).add(cls.type_uri)
    return out


def implied_errors(op: Op, operation: dict[str, Any]) -> Errors:
    """Errors an operation meets by what it is, whatever its handler does."""
    implied: list[type[e.IdentityError]] = []
    parameters = operation.get("parameters", [])
    if "requestBody" in operation:
        implied += [e.ParsingError, e.MalformedValueError, e.PayloadTooLargeError]
        implied += [c for c, s in problems.STATUS.items() if s == 415]
    if any(p["in"] == "path" for p in parameters):
        implied.append(e.NotFoundError)
    if any(p["in"] == "query" and (p.get("required") or _typed(p)) for p in parameters):
        implied.append(e.MalformedValueError)
    if any(p["in"] == "path" and _typed(p) for p in parameters):
        implied.append(e.MalformedValueError)
    if op.auth and not op.anonymous:
        implied += [e.AuthenticationError, e.PermissionDeniedError]
    elif op.auth:  # served anonymously, but a wrong credential is refused (service/auth.py)
        implied.append(e.AuthenticationError)
    if op.limited:
        implied.append(RateLimitedError)
    if op.store:
        implied += [e.UnavailableError, e.LogIntegrityError]
    return tuple(implied)


def _typed(parameter: dict[str, Any]) -> bool:
    schema = parameter.get("schema", {})
    kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
    return any(k not in (None, "string", "null") for k in kinds)


# -- building the document --------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Serve the completed document at ``app.openapi_url`` (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            base = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(base)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The document FastAPI derived, completed from :data:`OPERATIONS` (a new dict)."""
    doc = copy.deepcopy(document)
    components = doc.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    hoist_defs(doc, schemas)
    models: set[type[BaseModel]] = {ProblemDetails}
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            op = OPERATIONS.get((method.upper(), path))
            if op is None:
                continue
            _complete_operation((method.upper(), path), op, operation, models)
    generated = _model_schemas(models)
    for name, schema in generated.items():
        schemas[name] = schema
    components["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    prune(doc)
    return doc


def _complete_operation(
    key: tuple[str, str], op: Op, operation: dict[str, Any], models: set[type[BaseModel]]
) -> None:
    responses: dict[str, Any] = operation["responses"]
    ok = next(code for code in responses if code.startswith("2"))
    success = responses[ok]
    responses.clear()
    responses[ok] = {"description": success.get("description") or "Success"}
    if op.ok is not None:
        responses[ok]["content"] = {
            media: {"schema": _schema_of(op.ok, models)} for media in op.media.split(",")
        }
    if op.auth:
        operation["security"] = [{scheme: []} for scheme in op.auth] + (
            [{}] if op.anonymous else []
        )
    else:
        operation["security"] = []
    if op.body is not None and "requestBody" not in operation:
        schema = _schema_of(op.body, models)
        operation["requestBody"] = {"content": {JSON: {"schema": schema}}}
    body = operation.get("requestBody")
    if body is not None:
        body["required"] = op.body_required
        example = EXAMPLES.get(key)
        named = NAMED_EXAMPLES.get(key)
        if example is not None:
            for media in body["content"].values():
                if named:  # "example" and "examples" are mutually exclusive (OAS 3.1 §4.8.14)
                    values = {"dataIntegrity": example, **named}
                    media["examples"] = {name: {"value": v} for name, v in values.items()}
                else:
                    media["example"] = example
    if key == UNIVERSAL_RESOLVER:
        _resolver_responses(responses, ok, models)
        return
    if op.failure is not None:
        models.add(op.failure)
    by_status = problem_types((*op.errors, *implied_errors(op, operation)))
    by_status.setdefault(500, set()).add(INTERNAL)  # a bug: generic body, detail logged
    for status in sorted(by_status):
        responses[str(status)] = _problem_response(status, sorted(by_status[status]), op)
        if op.pages and 400 <= status < 500:
            responses[str(status)]["content"]["text/html"] = {"schema": {"type": "string"}}
    for status, response in op.extra.items():
        responses[str(status)] = response
        if response in (OAUTH_ERROR, OAUTH_ERROR_URI):
            models.add(OAuthError)


def _problem_response(status: int, types: list[str], op: Op) -> dict[str, Any]:
    constrained = {
        "type": "object",
        "properties": {"status": {"const": status}, "type": {"enum": types}},
    }
    parts: list[dict[str, Any]] = [{"$ref": COMPONENTS + "ProblemDetails"}, constrained]
    if op.failure is not None and status in (400, 422):
        parts.append({"$ref": COMPONENTS + op.failure.__name__})
    response: dict[str, Any] = {
        "description": _describe(status, types),
        "content": {problems.PROBLEM_JSON: {"schema": {"allOf": parts}}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": "The authentication scheme (RFC 9110 §11.6.1)",
                "schema": {"type": "string"},
            }
        }
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}
        }
    return response


def _describe(status: int, types: list[str]) -> str:
    reason = {
        400: "Bad request",
        401: "Not authenticated",
        403: "Authenticated, not allowed",
        404: "Not found",
        409: "Conflicts with the current state",
        413: "Request body too large",
        415: "Unsupported media type",
        422: "Well-formed but not acceptable",
        429: "Too many requests",
        500: "Internal error (details in the server's log only)",
        502: "An upstream host failed",
        503: "A backend is unavailable; retry later",
    }.get(status, "Error")
    if len(types) > 12:
        return f"{reason}: problem+json; `type` is the problem type of the first failed check"
    return f"{reason}: problem+json with `type` one of " + ", ".join(f"`{t}`" for t in types)


def _resolver_responses(responses: dict[str, Any], ok: str, models: set[type[BaseModel]]) -> None:
    result = _schema_of(r.DidResolutionResult, models)
    dereferenced = _schema_of(r.DidUrlDereferencingResult, models)
    document = _schema_of(r.Document, models)
    success = {
        DID_RESULT: {"schema": result},
        DID_DEREFERENCED: {"schema": dereferenced},
        DID_LD: {"schema": document},
        "application/did+json": {"schema": document},
    }
    responses[ok]["content"] = success
    responses["410"] = {
        "description": "The DID is deactivated (the result says so in its metadata)",
        "content": copy.deepcopy(success),
    }
    for status, codes in RESOLVER_ERRORS.items():
        responses[str(status)] = {
            "description": f"didResolutionMetadata.error names {codes}",
            "content": {DID_RESULT: {"schema": result}},
        }
    problem = {"schema": {"$ref": COMPONENTS + "ProblemDetails"}}
    responses["500"]["content"][problems.PROBLEM_JSON] = problem
    # A path the router cannot match at all (a DID with a line break: the {did:path}
    # pattern stops there) gets the router's 404, problem+json like any unknown path.
    responses["404"]["content"][problems.PROBLEM_JSON] = copy.deepcopy(problem)


def _schema_of(ok: Any, models: set[type[BaseModel]]) -> dict[str, Any]:
    if ok is str:
        return {"type": "string"}
    if ok is bytes:
        return {"type": "string", "format": "binary"}
    if isinstance(ok, list):
        return {"type": "array", "items": _schema_of(ok[0], models)}
    models.add(ok)
    return {"$ref": COMPONENTS + ok.__name__}


def _model_schemas(models: set[type[BaseModel]]) -> dict[str, Any]:
    ordered = sorted(models, key=lambda m: m.__name__)
    _, top = models_json_schema(
        [(m, "serialization") for m in ordered], ref_template=COMPONENTS + "{model}"
    )
    defs: dict[str, Any] = top.get("$defs", {})
    return defs


def hoist_defs(doc: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Move every inline ``$defs`` into ``components/schemas`` and point refs there."""
    for node in list(_objects(doc)):
        defs = node.pop("$defs", None)
        if isinstance(defs, dict):
            for name, schema in defs.items():
                schemas.setdefault(name, schema)
    for node in _objects(doc):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = COMPONENTS + ref.removeprefix("#/$defs/")


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def references(node: Any) -> Iterator[str]:
    """Every ``$ref`` in ``node``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def prune(doc: dict[str, Any]) -> None:
    """Drop component schemas that nothing reachable from the paths refers to."""
    schemas: dict[str, Any] = doc["components"]["schemas"]
    reachable: set[str] = set()
    pending = [ref for ref in references(doc["paths"]) if ref.startswith(COMPONENTS)]
    while pending:
        name = pending.pop().removeprefix(COMPONENTS)
        if name in reachable or name not in schemas:
            continue
        reachable.add(name)
        pending += [ref for ref in references(schemas[name]) if ref.startswith(COMPONENTS)]
    for name in set(schemas) - reachable:
        del schemas[name]
