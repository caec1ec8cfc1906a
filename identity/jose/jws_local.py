"""Compact JWS (RFC 7515 §7.1) over joserfc, for the VC-JOSE-COSE envelopes.

Signing and signature verification are joserfc's; this module adds what a verifier of
credentials must refuse before any key is looked up, each with its own error:

* ``alg: none`` (RFC 7518 §3.6, an unsecured JWS) and any algorithm not allowed here
  (:class:`JoseAlgorithmError`; RFC 8725 §3.1 "perform algorithm verification");
* a ``crit`` header naming an extension we do not understand (RFC 7515 §4.1.11: "the
  JWS is invalid"), and ``b64: false`` (RFC 7797) (:class:`JoseCritError`);
* compact serialization that is not three strict base64url parts, a header that is not
  a JSON object (:class:`MalformedJoseError`, a well-formedness failure).

Ed25519 signatures are accepted as ``EdDSA`` (RFC 8037 §3.1) and as the fully specified
``Ed25519`` (RFC 9864 §2.2); this service emits ``EdDSA``, which every JOSE library verifies.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from identity.canonical import parse_json
from identity.errors import (
    PROBLEMS,
    IdentityError,
    MalformedProofError,
    ParsingError,
    ProofVerificationError,
)

Json = dict[str, Any]
PublicJwk = OKPKey | ECKey

ED25519_ALGS = frozenset({"EdDSA", "Ed25519"})
P256_ALGS = frozenset({"ES256"})
ALLOWED_ALGS = ED25519_ALGS | P256_ALGS
UNDERSTOOD_CRIT: frozenset[str] = frozenset()
"""No JWS extension is understood, so any ``crit`` member refuses the token."""

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class MalformedJoseError(ParsingError):
    """Not a compact JWS: parts, base64url or header JSON (400: not well formed)."""

    type_uri = PROBLEMS + "malformed-jws"
    title = "Malformed JWS"


class JoseAlgorithmError(MalformedProofError):
    """``alg`` is ``none`` or an algorithm this verifier does not accept."""

    type_uri = PROBLEMS + "jose-algorithm-not-allowed"
    title = "JOSE algorithm not allowed"


class JoseCritError(MalformedProofError):
    """A ``crit`` header parameter this verifier does not understand (RFC 7515 §4.1.11)."""

    type_uri = PROBLEMS + "jose-crit-not-understood"
    title = "Critical JOSE header not understood"


def b64url_decode(part: str, what: str) -> bytes:
    """Strict unpadded base64url (RFC 7515 §2, §C): anything else is refused."""
    if not _B64URL.match(part) or len(part) % 4 == 1:
        raise MalformedJoseError(f"the JWS {what} is not base64url", part=what)
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise MalformedJoseError(f"the JWS {what} is not base64url", part=what) from None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != part:
        raise MalformedJoseError(f"the JWS {what} is not canonical base64url", part=what)
    return data


@dataclass(frozen=True, slots=True)
class DecodedJws:
    """A compact JWS taken apart but NOT verified: header, payload bytes, the token."""

    header: Json
    payload: bytes
    token: str


def decode_compact(token: str, *, max_depth: int = 32) -> DecodedJws:
    """Split and decode a compact JWS (structure only; no signature is checked)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedJoseError("a compact JWS has exactly three parts", parts=len(parts))
    header_bytes = b64url_decode(parts[0], "header")
    payload = b64url_decode(parts[1], "payload")
    b64url_decode(parts[2], "signature")
    try:
        header = parse_json(header_bytes, max_depth=max_depth)
    except IdentityError:
        raise MalformedJoseError("the JWS header is not JSON") from None
    if not isinstance(header, dict):
        raise MalformedJoseError("the JWS header is not a JSON object")
    return DecodedJws(header, payload, token)


def check_header(header: Json, allowed: frozenset[str] = ALLOWED_ALGS) -> str:
    """Refuse ``alg: none``, algorithms outside ``allowed``, and unknown ``crit``;
    return ``alg``."""
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise JoseAlgorithmError("the JWS header has no alg")
    if alg.lower() == "none":
        raise JoseAlgorithmError("alg none (an unsecured JWS) is never accepted", alg=alg)
    if alg not in allowed:
        raise JoseAlgorithmError(
            f"alg {alg[:20]!r} is not accepted; use one of {', '.join(sorted(allowed))}",
            alg=alg[:20],
        )
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
            raise JoseCritError("crit must be a non-empty array of header names")
        unknown = [c for c in crit if c not in UNDERSTOOD_CRIT]
        if unknown:
            raise JoseCritError(
                f"critical header extension not understood: {', '.join(unknown)[:200]}",
                crit=unknown[:10],
            )
    if header.get("b64", True) is not True:
        raise JoseCritError("unencoded payloads (b64: false, RFC 7797) are not accepted")
    return alg


def verify_compact(decoded: DecodedJws, key: PublicJwk) -> None:
    """Check the signature of an already decoded (and header-checked) JWS with ``key``;
    raise :class:`ProofVerificationError` if it does not verify."""
    alg = decoded.header["alg"]
    if (alg in ED25519_ALGS) != isinstance(key, OKPKey):
        raise ProofVerificationError(f"alg {alg} does not fit the verification key")
    try:
        with warnings.catch_warnings():  # "EdDSA is deprecated via RFC 9864": still valid
            warnings.simplefilter("ignore")
            jws.deserialize_compact(decoded.token, key, algorithms=[alg])
    except JoseError as exc:
        raise ProofVerificationError("the JWS signature does not verify") from exc


def sign_compact(header: Json, payload: bytes, key: OKPKey) -> str:
    """A compact JWS of ``payload`` under ``header`` (whose ``alg`` must be EdDSA or
    Ed25519) with an Ed25519 ``key``."""
    alg = check_header(header, ED25519_ALGS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jws.serialize_compact(header, payload, key, algorithms=[alg])
