"""Wire shapes of the OpenID4VCI agency API (``/oid4vci/offers``, issue #18)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class OfferRequest(BaseModel):
    """A credential offer for a citizen: ``type`` (a registered type), ``claims`` (its
    credentialSubject claims; the holder's DID becomes ``id``), ``formats``,
    ``cryptosuite`` (ldp_vc), ``subject`` (a citizen DID the proof must be signed by),
    ``validUntil``, ``txCode`` (a PIN, default true), ``deferred`` (agency approval) and
    ``grants``: the pre-authorized code (default), and/or the authorization code flow
    (``issuer_state``), in which ``subject`` signs in with their DID (OID4VCI §4.1.1)."""

    model_config = ConfigDict(extra="forbid")
    type: str
    claims: dict[str, Any]
    formats: list[Literal["dc+sd-jwt", "ldp_vc"]] = ["dc+sd-jwt"]
    cryptosuite: Literal["eddsa-rdfc-2022", "eddsa-jcs-2022"] | None = None
    subject: str | None = None
    validUntil: str | None = None
    txCode: bool = True
    deferred: bool = False
    grants: list[Literal["pre-authorized_code", "authorization_code"]] = ["pre-authorized_code"]


class OfferStatus(BaseModel):
    """An agency's own offer as its counter follows it (``GET /oid4vci/offers/{id}/status``):
    ``progress`` is one of offered, redeemed, awaiting_approval, approved, issued, locked,
    expired; ``state`` the code's own state (offered, redeemed, locked); ``issued`` the
    configurations already issued and ``credentialIds`` their credential records;
    ``triesLeft`` the PIN tries left (null without a PIN). No secret is ever in it."""

    model_config = ConfigDict(extra="forbid")
    offerId: str
    type: str
    progress: Literal[
        "offered", "redeemed", "awaiting_approval", "approved", "issued", "locked", "expired"
    ]
    state: Literal["offered", "redeemed", "locked"]
    configurations: list[str]
    issued: list[str]
    credentialIds: list[str]
    deferred: bool
    approved: bool
    triesLeft: int | None
    createdAt: str
    expiresAt: str


class AuthorizationStarted(BaseModel):
    """``GET /oid4vci/authorize`` for a wallet (``Accept: application/json``): what its
    DID key signs -- a DID-auth presentation over ``challenge`` and ``domain`` -- and
    ``sign_in_uri``, where it POSTs ``presentation=<VP>`` before ``expires``."""

    request_id: str
    sign_in_uri: str
    challenge: str
    domain: str
    expires: str
    credential_configuration_ids: list[str]


class AuthorizationAnswer(BaseModel):
    """``POST /oid4vci/authorize/{request_id}`` for a wallet (``Accept:
    application/json``): the Authorization Response as the URI a browser is redirected
    to (303) -- ``redirect_uri`` with ``code``, ``state`` and ``iss`` (RFC 9207), or with
    ``error`` (RFC 6749 §4.1.2.1)."""

    redirect_to: str


class PushedRequest(BaseModel):
    """``POST /oid4vci/par`` (RFC 9126 §2.2): the one-time ``request_uri`` to open at
    ``GET /oid4vci/authorize?client_id=…&request_uri=…`` within ``expires_in`` seconds."""

    request_uri: str
    expires_in: int
