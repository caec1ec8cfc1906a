"""Verifying SD-JWT VCs and presentations (RFC 9901 §7, SD-JWT VC §3).

Order: split and bound the size -> parse the issuer-signed JWT -> find the issuer's key
(the caller's ``issuer_key``: JWT VC issuer metadata, never a DID in ``iss``) -> verify
its signature, ``typ`` and ``_sd_alg`` -> put the disclosures back (refusing every
disclosure RFC 9901 §7.1 says to refuse, and any for an always-disclosed claim) ->
validity times -> the Key Binding JWT (§7.3). Returns :class:`VerifiedSdJwtVc` or raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from identity.errors import (
    AlwaysDisclosedClaimError,
    KeyBindingError,
    MalformedValueError,
    SdHashMismatchError,
    UnsupportedAlgorithmError,
    ValidityPeriodError,
)
from identity.jose.jws import parse_compact, verify_compact
from identity.jose.keys import PublicJwk
from identity.sdjwt.disclosures import SD_ALG, SHA_256, Disclosure, reveal
from identity.sdjwt.format import MAX_SD_JWT_SIZE, sd_hash, split
from identity.sdjwt.holder import KB_TYP
from identity.sdjwt.issuance import LEGACY_VC_TYP, NEVER_DISCLOSABLE, VC_TYP

IssuerKey = Callable[[dict[str, Any], dict[str, Any]], PublicJwk]
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True, slots=True)
class KeyBindingRequirement:
    """A verifier's demand of holder binding: the nonce and audience it issued, and how
    old (seconds) a KB-JWT's ``iat`` may be."""

    nonce: str
    audience: str
    max_age: int = 300


@dataclass(frozen=True, slots=True)
class VerifiedSdJwtVc:
    """A verified SD-JWT VC. ``claims`` holds exactly what was disclosed (always-disclosed
    claims and the disclosures presented; ``_sd``/``_sd_alg`` removed); ``disclosed``
    names the selectively disclosed paths; ``key_binding`` the KB-JWT's claims, if any."""

    header: dict[str, Any]
    claims: dict[str, Any]
    disclosed: tuple[str, ...]
    issuer_jwt: str
    disclosures: tuple[str, ...]
    key_binding: dict[str, Any] | None
    holder: PublicJwk | None


def _policy_path(path: str) -> str:
    return _INDEX.sub("[]", path)


def _numeric(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedValueError(f"{name} must be a NumericDate", claim=name)
    return int(value)


def check_times(claims: dict[str, Any], now: int, leeway: int) -> None:
    """``nbf``/``exp`` against ``now`` with ``leeway`` seconds of clock skew (RFC 7519 §4.1)."""
    nbf, exp = _numeric(claims, "nbf"), _numeric(claims, "exp")
    _numeric(claims, "iat")
    if nbf is not None and nbf > now + leeway:
        raise ValidityPeriodError("the credential is not yet valid", nbf=nbf, now=now)
    if exp is not None and exp <= now - leeway:
        raise ValidityPeriodError("the credential has expired", exp=exp, now=now)


def holder_key(claims: dict[str, Any]) -> PublicJwk | None:
    """The ``cnf.jwk`` holder key (RFC 7800 §3.2), or None when the credential has none."""
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    if not isinstance(cnf, dict) or "jwk" not in cnf:
        raise MalformedValueError("cnf must hold a jwk", claim="cnf")
    return PublicJwk.from_dict(cnf["jwk"])


def verify_key_binding(
    kb_jwt: str | None,
    presented_without_kb: str,
    holder: PublicJwk | None,
    requirement: KeyBindingRequirement | None,
    *,
    now: int,
    leeway: int,
) -> dict[str, Any] | None:
    """RFC 9901 §7.3: the KB-JWT's signature by the ``cnf`` key, its ``typ``, ``iat``
    freshness, ``nonce``, ``aud`` and ``sd_hash``. A KB-JWT presented unasked is still
    checked (signature, ``sd_hash``)."""
    if kb_jwt is None:
        if requirement is not None:
            raise KeyBindingError("the verifier requires a Key Binding JWT", reason="missing")
        return None
    if holder is None:
        raise KeyBindingError("a Key Binding JWT, but the credential has no cnf key")
    claims = verify_compact(kb_jwt, holder, typ=KB_TYP).claims()
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise KeyBindingError("the KB-JWT has no iat", reason="iat")
    if claims.get("sd_hash") != sd_hash(presented_without_kb):
        raise SdHashMismatchError("the KB-JWT's sd_hash is not this presentation's")
    if requirement is not None:
        max_age = requirement.max_age
        if iat > now + leeway or iat < now - max_age - leeway:
            raise KeyBindingError(
                f"the KB-JWT was issued at {int(iat)}, outside {max_age}s before {now}",
                reason="stale",
                iat=int(iat),
            )
        if claims.get("nonce") != requirement.nonce:
            raise KeyBindingError("the KB-JWT is for another nonce", reason="nonce")
        if claims.get("aud") != requirement.audience:
            raise KeyBindingError("the KB-JWT is for another audience", reason="aud")
    return claims


def verify_sd_jwt_vc(
    token: object,
    *,
    issuer_key: IssuerKey,
    now: int,
    always_disclosed: Callable[[dict[str, Any]], Collection[str]] = lambda _: (),
    key_binding: KeyBindingRequirement | None = None,
    leeway: int = 60,
    max_size: int = MAX_SD_JWT_SIZE,
) -> VerifiedSdJwtVc:
    """Verify an SD-JWT VC (with or without a KB-JWT); see the module docstring.

    ``issuer_key(header, payload)`` returns the key for the (unverified) issuer JWT or
    raises; ``always_disclosed(payload)`` the claim paths the credential's type marks as
    always disclosed (a disclosure for one is refused)."""
    parts = split(token, max_size=max_size)
    unverified = parse_compact(parts.issuer_jwt, max_size=max_size)
    key = issuer_key(unverified.header, unverified.claims())
    jws = verify_compact(parts.issuer_jwt, key, typ=(VC_TYP, LEGACY_VC_TYP), max_size=max_size)
    payload = jws.claims()
    alg = payload.pop(SD_ALG, SHA_256)
    if alg != SHA_256:
        raise UnsupportedAlgorithmError(f"_sd_alg {alg!r} is not sha-256", alg=str(alg))
    for name in ("iss", "vct"):
        if not isinstance(payload.get(name), str):
            raise MalformedValueError(f"an SD-JWT VC has a string {name}", claim=name)
    disclosures = [Disclosure.parse(d) for d in parts.disclosures]
    revealed = reveal(payload, disclosures)
    fixed = set(always_disclosed(payload)) | NEVER_DISCLOSABLE
    for path in revealed.paths.values():
        if _policy_path(path) in fixed:
            raise AlwaysDisclosedClaimError(
                f"{path} is always disclosed; a disclosure for it is refused", claim=path
            )
    check_times(revealed.claims, now, leeway)
    holder = holder_key(revealed.claims)
    kb = verify_key_binding(
        parts.kb_jwt, parts.without_kb, holder, key_binding, now=now, leeway=leeway
    )
    return VerifiedSdJwtVc(
        header=jws.header,
        claims=revealed.claims,
        disclosed=tuple(sorted(revealed.paths.values())),
        issuer_jwt=parts.issuer_jwt,
        disclosures=parts.disclosures,
        key_binding=kb,
        holder=holder,
    )
