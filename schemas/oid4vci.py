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
