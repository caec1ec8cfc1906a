"""The one table from domain errors to HTTP, and RFC 9457 problem+json responses.

A class maps to the status of its nearest listed ancestor. Unexpected exceptions are
bugs: 500 with a generic body; the detail goes to the log only.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from identity import errors as e
from identity.credentials.verifier import CheckResult, CredentialNotVerified
from service.observability.context import REQUEST_ID, request_id_of, route_of
from service.ratelimit import RateLimitedError

log = logging.getLogger("identity.service")

PROBLEM_JSON = "application/problem+json"
RESERVED = frozenset({"type", "title", "status", "detail", "instance"})  # RFC 9457 §3.1

STATUS: dict[type[e.IdentityError], int] = {
    e.ParsingError: 400,
    e.InputError: 422,
    e.PayloadTooLargeError: 413,
    e.UnsupportedMediaTypeError: 415,
    e.ContextNotAllowedError: 422,
    e.InvalidDidError: 400,
    e.VerificationError: 422,
    e.ProofGenerationError: 422,
    e.AuthenticationError: 401,
    e.PermissionDeniedError: 403,
    e.AuthError: 401,
    e.NotFoundError: 404,
    e.ConflictError: 409,
    e.LogIntegrityError: 503,  # the store is damaged: never served, named, retry later
    e.SealedKeyError: 503,  # keys sealed under another master secret: nothing is signed
    e.DidResolutionError: 502,
    e.UnavailableError: 503,
    RateLimitedError: 429,
    e.IdentityError: 400,
}


def status_for(exc: e.IdentityError) -> int:
    """The HTTP status of ``exc``: that of its nearest ancestor in :data:`STATUS` (a failed
    credential verification is 400 when the ``wellFormed`` check failed, else 422); 500 only
    for an error outside the tree."""
    if isinstance(exc, CredentialNotVerified):
        return 400 if any(c.name == "wellFormed" for c in exc.failed) else 422
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def problem(status: int, type_uri: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem+json response. ``extra`` members become extension members, except the
    reserved ones (§3.1), which cannot be overridden; ``instance`` is the request id; 429 and
    503 carry ``Retry-After`` (``retry_after`` of ``extra``, default 1 second)."""
    retry_after = extra.pop("retry_after", 1)
    body: dict[str, Any] = {k: v for k, v in extra.items() if k not in RESERVED}
    body.update(type=type_uri, title=title, status=status, detail=detail)
    request_id = REQUEST_ID.get()
    if request_id is not None:  # the occurrence: the X-Request-ID the response carries
        body["instance"] = request_id
    headers = {"Retry-After": str(retry_after)} if status in (429, 503) else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def check_result(check: CheckResult) -> dict[str, Any]:
    """One named check as reported in ``results``: valid, its details, and its error."""
    out: dict[str, Any] = {"valid": check.valid, **check.details}
    if check.skipped is not None:
        out["skipped"] = check.skipped
    if check.error is not None:
        out["error"] = {
            "type": check.error.type_uri,
            "title": check.error.title,
            "detail": check.error.detail,
        }
    return out


def problem_details(exc: CredentialNotVerified) -> list[dict[str, Any]]:
    """One problem-details object per failed check (VC DM 2.0 §7.1)."""
    return [
        {
            "check": c.name,
            "type": c.error.type_uri,
            "title": c.error.title,
            "detail": c.error.detail,
        }
        for c in exc.failed
        if c.error is not None
    ]


def problem_for(exc: e.IdentityError, **extra: Any) -> JSONResponse:
    """The problem+json response for a domain error: its status from :func:`status_for`, its
    type, title and detail, its ``data`` and ``extra`` as members (``problemDetails`` added
    for a failed credential), and a 401's ``WWW-Authenticate`` challenge."""
    fields = {**exc.data, **extra}
    if isinstance(exc, CredentialNotVerified) and "problemDetails" not in fields:
        fields["problemDetails"] = problem_details(exc)
    response = problem(status_for(exc), exc.type_uri, exc.title, exc.detail, **fields)
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = www_authenticate(exc)
    return response


def www_authenticate(exc: e.IdentityError) -> str:
    """The challenge of a 401 (RFC 9110 §11.6.1), in RFC 6750 §3's Bearer form: no
    ``error`` when no credential came (§3.1), ``invalid_token`` for one that did not
    verify (wrong, expired, revoked)."""
    value = 'Bearer realm="identity"'
    if exc.data.get("reason") == "missing":
        return value
    # error_description is limited to %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3).
    description = "".join(c for c in exc.detail if 0x20 <= ord(c) <= 0x7E and c not in '"\\')
    return f'{value}, error="invalid_token", error_description="{description}"'


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(e.IdentityError)
    async def _identity(_: Request, exc: e.IdentityError) -> JSONResponse:
        return problem_for(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        return problem(
            422,
            e.MalformedValueError.type_uri,
            "Invalid request",
            "the request does not match the expected shape",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        response = problem(exc.status_code, e.PROBLEMS + kind, str(exc.detail), str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. 405's Allow (RFC 9110 §15.5.6)
        return response

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, route_of(request.scope))
        # Outside the request middleware by now (Starlette answers 500s outermost).
        request_id = request_id_of(request.scope)
        token = REQUEST_ID.set(request_id)
        try:
            response = problem(
                500,
                e.PROBLEMS + "internal",
                "Internal error",
                "an unexpected error occurred; it has been logged",
            )
        finally:
            REQUEST_ID.reset(token)
        if request_id is not None:
            response.headers["X-Request-ID"] = request_id
        return response
