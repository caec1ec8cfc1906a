"""Wire shapes of the OpenID4VP routes (``/oid4vp/*``, issue #18 part 2)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from schemas.responses import Open


class CreatePresentationRequest(BaseModel):
    """``dcql_query``: a DCQL query (OpenID4VP 1.0 §6); ``signed`` (default true: a
    request object under ``decentralized_identifier:``; false: ``redirect_uri:``, by
    value); ``redirectUri``: the same-device flow's redirect; ``expiresIn``: 30..3600 s."""

    model_config = ConfigDict(extra="allow")
    dcql_query: dict[str, Any]
    signed: bool = True
    redirectUri: str | None = None
    expiresIn: int = 300


class PresentationRequestCreated(Open):
    """The request: ``authorizationRequest`` (the ``openid4vp://`` URI), ``request_uri``
    (signed requests), the ``client_id`` and ``nonce``, where its QR code and result are."""

    id: str
    status: str
    client_id: str
    nonce: str
    expires: str
    dcql_query: dict[str, Any]
    authorizationRequest: str
    qr: str
    result: str


class PresentationResult(Open):
    """``status`` (created, fetched, answered, expired); once answered ``verified`` and,
    per Credential Query id, exactly the disclosed claims (or the wallet's ``error``)."""

    id: str
    status: str


class OAuthError(BaseModel):
    """An OAuth error response (RFC 6749 §5.2; OpenID4VP 1.0 §8.5 codes)."""

    error: str
    error_description: str | None = None


class DirectPostAnswer(Open):
    """The Response Endpoint's answer: ``redirect_uri`` in the same-device flow."""

    redirect_uri: str | None = None
