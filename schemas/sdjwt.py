"""Wire shapes of the SD-JWT VC routes (``/credentials/sd-jwt/*``, issue #17)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from schemas.responses import Open


class SdJwtIssueRequest(BaseModel):
    """``credential``: ``type`` (one registered type), ``credentialSubject`` (its claims,
    ``id`` becoming ``sub``), optional ``validFrom``/``validUntil``; ``options.cnf.jwk``:
    the holder's public key (P-256 or Ed25519)."""

    model_config = ConfigDict(extra="allow")
    credential: dict[str, Any]
    options: dict[str, Any]


class SdJwtIssued(Open):
    """The issued SD-JWT VC (compact, ending in ``~``) and the log receipt."""

    credential: str
    format: str
    credentialId: str
    vct: str
    selectivelyDisclosable: list[str]
    receipt: dict[str, Any]


class SdJwtVerifyRequest(BaseModel):
    """``credential``: an SD-JWT VC or presentation; ``options.keyBinding``: the
    ``nonce`` and ``audience`` the verifier requires (``maxAge`` seconds); and
    ``options.requireAccreditedIssuer``."""

    model_config = ConfigDict(extra="allow")
    credential: str
    options: dict[str, Any] = {}


class SdJwtVerified(Open):
    """A verified SD-JWT VC: exactly the disclosed claims, their paths, every check."""

    verified: bool
    format: str
    issuer: str
    claims: dict[str, Any]
    disclosed: list[str]
    results: dict[str, Any]
