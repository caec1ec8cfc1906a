"""``POST /credentials/verify/batch``: many credentials in one request (issue #15).

The body is a JSON array of VC-API verify requests. Each item is judged exactly as
``POST /credentials/verify`` would judge it alone (same checks, same result shape), and
its answer carries the status that endpoint would have sent.

The HTTP status rule: **200** whenever the batch itself could be read -- a JSON array of
at most :data:`MAX_ITEMS` items within :data:`MAX_BODY_BYTES` -- whatever its items'
outcomes; a client reads each ``results[i].status`` (200 verified, 400 not well formed,
422 not verified or a bad item envelope, 503 a check that cannot run now). The batch
as a whole is refused as problem+json: 401 without a verifier API key or with a
bearer credential that is wrong, expired or revoked (as on ``POST /credentials/verify``),
403 with a valid credential of another role (bulk verification is for verifiers;
anonymous callers use the single endpoint and its rate limit), 400 for a body that is
not JSON, 422 for one that is not an array, 413 for more than
:data:`MAX_ITEMS` items or a body over :data:`MAX_BODY_BYTES`, 415 for a body not sent as
JSON. Verification writes nothing, so nothing is written either way.

Items are judged by one verifier per batch (``service/batch_verify.py``): the single
route's checks, each trust and status read made once a batch. They run inline on the
event loop (a thread hop per item would cost more than the work), yielding to other
requests every :data:`YIELD_EVERY` items; an item that needs the network (a remote
did:web document) runs in a worker thread, as on the single route
(``service/offline.py``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from identity.credentials.verifier import CredentialNotVerified, VerifiedCredential, Verifier
from identity.errors import (
    IdentityError,
    MalformedValueError,
    PayloadTooLargeError,
)
from schemas.api import VerifyRequest
from schemas.batch import BatchVerifyRequest, BatchVerifyResponse
from service.auth import identify, refuse
from service.batch_verify import batch_verifier, parse_batch
from service.container import Services, Svc, require_json_media_type
from service.observability import verification
from service.offline import run_verification
from service.problems import check_result, problem_details, status_for
from service.request_versions import one_read
from service.routers import body_schema, check_envelope

router = APIRouter(tags=["credentials"])

MAX_ITEMS = 1000
"""The most credentials one batch may carry (more: 413)."""
MAX_BODY_BYTES = 8 * 1024 * 1024
"""The largest batch body read (more: 413); a single credential's limit is the
``max_body_bytes`` setting."""
YIELD_EVERY = 64
"""Items verified between two yields to the event loop."""


@router.post(
    "/credentials/verify/batch",
    response_model=BatchVerifyResponse,
    openapi_extra=body_schema(BatchVerifyRequest),
)
async def verify_batch(request: Request, svc: Svc) -> Response:
    """Verifier API key. 200 with one VC-API result per item, in order; see the module
    docstring for the status rule."""
    caller = identify(request, svc)  # a wrong, expired or revoked credential: 401
    if caller.role != "verifier":
        refuse(caller, "a verifier API key (scope verify)")
    items = await _read_items(request, svc)
    named = (item.get("verifiableCredential") for item in items if isinstance(item, dict))
    results: list[dict[str, Any]] = []
    with one_read(svc, svc.issuance.status.lists_named(named)):  # one round trip
        verifier = batch_verifier(svc)  # each status list loaded once a batch
        for number, item in enumerate(items, 1):
            results.append(await _judge(request, verifier, item))
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)
    verified = sum(1 for r in results if r["verified"])
    # orjson: a 1,000-item answer is about a megabyte, which json.dumps writes ~20x slower.
    body = {"results": results, "count": len(results), "verifiedCount": verified}
    return Response(orjson.dumps(body), media_type="application/json")


async def _read_items(request: Request, svc: Services) -> list[Any]:
    """The body as a strict I-JSON array of at most :data:`MAX_ITEMS` items."""
    require_json_media_type(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(
            f"request body exceeds {MAX_BODY_BYTES} bytes", limit=MAX_BODY_BYTES
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLargeError(
                f"request body exceeds {MAX_BODY_BYTES} bytes", limit=MAX_BODY_BYTES
            )
        chunks.append(chunk)
    body = parse_batch(b"".join(chunks), max_depth=svc.settings.max_json_depth + 1)
    if not isinstance(body, list):
        raise MalformedValueError(
            "a batch is a JSON array of {verifiableCredential, options} objects", field="body"
        )
    if len(body) > MAX_ITEMS:
        raise PayloadTooLargeError(
            f"a batch holds at most {MAX_ITEMS} credentials; this one has {len(body)}",
            limit=MAX_ITEMS,
            items=len(body),
        )
    return body


async def _judge(request: Request, verifier: Verifier, item: Any) -> dict[str, Any]:
    """One item's VC-API answer, with the status the single endpoint would send."""
    try:
        if not isinstance(item, dict):
            raise MalformedValueError("each batch item must be a JSON object", field="item")
        if not plain_envelope(item):
            check_envelope(VerifyRequest, item)
        options = item.get("options") or {}
        credential = item["verifiableCredential"]
        verified: VerifiedCredential = await run_verification(
            lambda: verifier.verify(credential, options)
        )
    except CredentialNotVerified as exc:
        verification(request, item["verifiableCredential"], [c.name for c in exc.failed])
        return {
            **_problem(exc),
            "verified": False,
            "checks": [c.name for c in exc.checks],
            "results": {c.name: check_result(c) for c in exc.checks},
            "problemDetails": problem_details(exc),
        }
    except IdentityError as exc:  # a bad item envelope, a check that cannot run now
        return {**_problem(exc), "verified": False, "checks": [], "results": {}}
    verification(request, credential)
    return {
        "status": 200,
        "verified": True,
        "checks": [c.name for c in verified.checks],
        "results": {c.name: check_result(c) for c in verified.checks},
        "problemDetails": [],
        "warnings": [],
    }


def plain_envelope(item: dict[str, Any]) -> bool:
    """True when ``item`` is a :class:`VerifyRequest` for certain (a JSON object
    ``verifiableCredential`` and, if present, a JSON object ``options``), without
    pydantic; False means "let ``check_envelope`` decide" (its error is the answer).
    tests/service/test_batch_equal.py proves it never accepts what pydantic refuses."""
    options = item.get("options", _ABSENT)
    return type(item.get("verifiableCredential")) is dict and (
        options is _ABSENT or type(options) is dict
    )


_ABSENT = object()


def _problem(exc: IdentityError) -> dict[str, Any]:
    """The RFC 9457 members of ``exc``'s problem document (type, title, status, detail)."""
    return {
        "type": exc.type_uri,
        "title": exc.title,
        "status": status_for(exc),
        "detail": exc.detail,
    }
