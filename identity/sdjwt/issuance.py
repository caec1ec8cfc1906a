"""Issuing SD-JWT VCs (``dc+sd-jwt``, draft-ietf-oauth-sd-jwt-vc) with decoys and SHA-256.

The claims of the credential type sit at the top level of the payload beside the
registered ones (``iss``, ``vct``, ``iat``, ``nbf``, ``exp``, ``cnf``, ``status``), which
are never selectively disclosable (SD-JWT VC §3.2.2.2). What the type marks disclosable
is replaced by digests; the rest is always disclosed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from identity.errors import ForbiddenSdClaimError, MalformedValueError
from identity.jose.jws import sign_compact
from identity.jose.keys import PublicJwk, SigningKey
from identity.sdjwt.disclosures import SD_ALG, SHA_256, Disclosure, RandomBytes, conceal

VC_TYP = "dc+sd-jwt"
LEGACY_VC_TYP = "vc+sd-jwt"  # earlier drafts; accepted on verification only
#: never selectively disclosable in an SD-JWT VC (SD-JWT VC §3.2.2.2)
NEVER_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
REGISTERED = NEVER_DISCLOSABLE | {"iat", "sub", SD_ALG}


@dataclass(frozen=True, slots=True)
class IssuedSdJwt:
    """An issued SD-JWT VC: the compact form handed out (``sd_jwt``, ending in ``~``),
    its issuer-signed JWT and its disclosures: exactly what the log anchors."""

    sd_jwt: str
    issuer_jwt: str
    disclosures: tuple[Disclosure, ...]
    payload: dict[str, Any]

    @property
    def issuer_jwt_digest(self) -> bytes:
        """SHA-256 of the issuer-signed JWT's ASCII bytes."""
        return hashlib.sha256(self.issuer_jwt.encode("ascii")).digest()

    @property
    def disclosure_digests(self) -> list[str]:
        """The ``_sd`` digest of each disclosure, in issuance order."""
        return [d.digest for d in self.disclosures]


def default_decoys(random: RandomBytes) -> Callable[[], int]:
    """One to three decoys per concealing object or array (RFC 9901 §4.2.5)."""
    return lambda: 1 + random(1)[0] % 3


@dataclass(frozen=True, slots=True)
class SdJwtVcClaims:
    """What an issuer states in an SD-JWT VC besides the subject's claims. Times are
    NumericDates (seconds); ``status`` is the ``status`` claim, e.g.
    ``{"status_list": {"idx": 7, "uri": "https://…/statuslists/…"}}``."""

    issuer: str
    vct: str
    issued_at: int
    holder: PublicJwk
    valid_from: int | None = None
    valid_until: int | None = None
    status: Mapping[str, Any] | None = None
    subject: str | None = None


def issue_sd_jwt_vc(
    claims: Mapping[str, Any],
    envelope: SdJwtVcClaims,
    key: SigningKey,
    *,
    kid: str,
    disclosable: Collection[str],
    random: RandomBytes,
    decoys: Callable[[], int] | None = None,
) -> IssuedSdJwt:
    """Sign an SD-JWT VC of ``claims`` with the agency's ``key`` (header ``kid``).

    Raises :class:`ForbiddenSdClaimError` when ``disclosable`` names a registered claim
    or ``claims`` use the names SD-JWT reserves, and :class:`MalformedValueError` when
    ``claims`` collide with the registered claims."""
    clash = sorted(set(claims) & REGISTERED)
    if clash:
        raise MalformedValueError(
            f"subject claims may not use registered JWT claim names: {', '.join(clash)}",
            claims=clash,
        )
    forbidden = sorted(p for p in disclosable if p.split(".")[0].split("[")[0] in NEVER_DISCLOSABLE)
    if forbidden:
        raise ForbiddenSdClaimError(
            f"registered claims are never selectively disclosable: {', '.join(forbidden)}",
            claims=forbidden,
        )
    full: dict[str, Any] = {"iss": envelope.issuer, "vct": envelope.vct, "iat": envelope.issued_at}
    if envelope.valid_from is not None:
        full["nbf"] = envelope.valid_from
    if envelope.valid_until is not None:
        full["exp"] = envelope.valid_until
    if envelope.subject is not None:
        full["sub"] = envelope.subject
    full["cnf"] = {"jwk": envelope.holder.to_dict()}
    if envelope.status is not None:
        full["status"] = dict(envelope.status)
    full.update(claims)
    payload, disclosures = conceal(
        full, disclosable, random, decoys=decoys or default_decoys(random)
    )
    payload[SD_ALG] = SHA_256
    issuer_jwt = sign_compact({"typ": VC_TYP, "kid": kid}, payload, key)
    compact = issuer_jwt + "~" + "".join(f"{d.encoded}~" for d in disclosures)
    return IssuedSdJwt(compact, issuer_jwt, tuple(disclosures), payload)
