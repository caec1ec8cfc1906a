"""Wire shapes of the OpenID4VP routes (``/oid4vp/*``, issue #18 part 2)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue

from schemas.responses import Open


class CreatePresentationRequest(BaseModel):
    """``dcql_query``: a DCQL query (OpenID4VP 1.0 §6); ``signed`` (default true: a
    request object under ``decentralized_identifier:``; false: ``redirect_uri:``, by
    value); ``redirectUri``: the same-device flow's redirect; ``expiresIn``: 30..3600 s;
    ``requireAccreditedIssuer`` (default true): refuse a credential whose issuer was not
    accredited for its type at issuance, so a self-issued look-alike is never an answer."""

    model_config = ConfigDict(extra="allow")
    dcql_query: dict[str, Any]
    signed: bool = True
    redirectUri: str | None = None
    expiresIn: int = 300
    requireAccreditedIssuer: bool = True


class PresentationRequestCreated(Open):
    """The request: ``authorizationRequest`` (the ``openid4vp://`` URI), ``request_uri``
    (signed requests), the ``client_id`` and ``nonce``, where its QR code and result are."""

    id: str
    status: str
    client_id: str
    nonce: str
    expires: str
    dcql_query: dict[str, Any]
    requireAccreditedIssuer: bool
    authorizationRequest: str
    qr: str
    result: str


class PresentationRefusal(Open):
    """A wallet's answer the Response Endpoint refused (never an answer): the §8.5
    ``error`` and ``error_description`` the wallet got, ``check`` (the problem type of the
    failed check), ``refusedAt``, and when known the ``field``, ``query``, ``missing``
    Credential Query ids or ``cause`` (the inner check's problem type). Never the token."""

    error: str
    error_description: str
    check: str
    refusedAt: str
    field: str | None = None
    query: str | None = None
    missing: list[str] | None = None
    cause: str | None = None


REFUSED_EXAMPLE: dict[str, Any] = {
    "id": "Yp3kq0vJ2mUe8yq1cV4hS9Qb",
    "status": "fetched",
    "refusedCount": 1,
    "refusals": [
        {
            "error": "invalid_request",
            "error_description": "the SD-JWT VC presentation did not verify: the Key Binding "
            "JWT's aud is not the expected audience",
            "check": "https://identity-service.example/problems/oid4vp-presentation-rejected",
            "cause": "https://identity-service.example/problems/sd-jwt-key-binding",
            "refusedAt": "2026-06-01T12:00:05+00:00",
        }
    ],
}
ANSWERED_EXAMPLE: dict[str, Any] = {
    "id": "Yp3kq0vJ2mUe8yq1cV4hS9Qb",
    "status": "answered",
    "verified": True,
    "credentials": {
        "permit": [
            {
                "format": "dc+sd-jwt",
                "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                "vct": "https://identity-service.example/vct/ResidencePermitCredential",
                "claims": {"dateOfBirth": "1990-02-03", "district": "Chaoyang"},
                "disclosed": ["dateOfBirth", "district"],
            }
        ]
    },
    "answeredAt": "2026-06-01T12:00:09+00:00",
    "refusedCount": 1,
    "refusals": REFUSED_EXAMPLE["refusals"],
}

EXAMPLES: list[JsonValue] = [REFUSED_EXAMPLE, ANSWERED_EXAMPLE]


class PresentationResult(Open):
    """``status`` (created, fetched, answered, expired); once answered ``verified`` and,
    per Credential Query id, exactly the disclosed claims (or the wallet's ``error``).
    ``refusedCount`` and ``refusals`` (the newest 5) when a wallet's answer was refused:
    the request stays open (status unchanged) for a correct answer until it expires."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": EXAMPLES})
    id: str
    status: str
    refusedCount: int | None = None
    refusals: list[PresentationRefusal] | None = None


class OAuthError(BaseModel):
    """An OAuth error response (RFC 6749 §5.2; OpenID4VP 1.0 §8.5 codes)."""

    error: str
    error_description: str | None = None


class DirectPostAnswer(Open):
    """The Response Endpoint's answer: ``redirect_uri`` in the same-device flow."""

    redirect_uri: str | None = None
