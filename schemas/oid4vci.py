"""Wire shapes of the OpenID4VCI agency API (``/oid4vci/offers``, issue #18)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class OfferRequest(BaseModel):
    """A credential offer for a citizen: ``type`` (a registered type), ``claims`` (its
    credentialSubject claims; the holder's DID becomes ``id``), ``formats``,
    ``cryptosuite`` (ldp_vc), ``subject`` (a citizen DID the proof must be signed by),
    ``validUntil``, ``txCode`` (a PIN, default true) and ``deferred`` (agency approval)."""

    model_config = ConfigDict(extra="forbid")
    type: str
    claims: dict[str, Any]
    formats: list[Literal["dc+sd-jwt", "ldp_vc"]] = ["dc+sd-jwt"]
    cryptosuite: Literal["eddsa-rdfc-2022", "eddsa-jcs-2022"] | None = None
    subject: str | None = None
    validUntil: str | None = None
    txCode: bool = True
    deferred: bool = False


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
