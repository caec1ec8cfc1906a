"""The JWT key proof of a Credential Request (OID4VCI 1.0 Appendix F.1).

``typ`` is ``openid4vci-proof+jwt``; the holder key is in the header as ``jwk`` or named
by ``kid`` (a ``did:key`` DID URL, resolved here without I/O); never both, and never
``x5c`` (not supported). Claims: ``aud`` = the Credential Issuer Identifier, ``iat``
within the allowed window, ``nonce`` = a ``c_nonce`` from the Nonce Endpoint (checked
and consumed by the caller, who owns the store). ``iss`` is the client_id when present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from identity.dids.key import key_from_did
from identity.errors import IdentityError
from identity.jose.discovery import _p256_did_key
from identity.jose.jws import parse_compact, verify_compact
from identity.jose.keys import PublicJwk
from identity.oid4vci.errors import InvalidProof

PROOF_TYP = "openid4vci-proof+jwt"
ALGORITHMS = ("EdDSA", "Ed25519", "ES256")


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A proof whose signature, ``typ``, ``aud`` and ``iat`` verified; ``nonce`` is still
    the caller's to consume. ``did`` is the holder's did:key when the proof named one."""

    holder: PublicJwk
    did: str | None
    nonce: str | None


def holder_key(header: dict[str, Any]) -> tuple[PublicJwk, str | None]:
    """The key a proof header names (``jwk``, or ``kid`` as a did:key URL) and its DID."""
    if ("jwk" in header) == ("kid" in header):
        raise InvalidProof("the proof header carries exactly one of jwk and kid")
    if "jwk" in header:
        return PublicJwk.from_dict(header["jwk"]), None
    kid = header["kid"]
    if not isinstance(kid, str) or not kid.startswith("did:key:") or "#" not in kid:
        raise InvalidProof("kid must be a did:key DID URL", kid=str(kid)[:200])
    did, _, fragment = kid.partition("#")
    p256 = _p256_did_key(kid)
    if p256 is not None:
        return p256.jwk(), did
    key = key_from_did(did)
    if fragment != did.removeprefix("did:key:"):
        raise InvalidProof("the did:key fragment does not name its key", kid=kid[:200])
    return PublicJwk.from_ed25519(key), did


def verify_proof(
    jwt: object, *, audience: str, now: int, max_age: int, leeway: int = 60
) -> VerifiedProof:
    """Verify one ``jwt`` proof; :class:`InvalidProof` for every failure (the nonce
    excepted: the caller raises :class:`~identity.oid4vci.errors.InvalidNonce`)."""
    try:
        header = parse_compact(jwt).header
        key, did = holder_key(header)
        claims = verify_compact(jwt, key, typ=PROOF_TYP, algorithms=ALGORITHMS).claims()
    except InvalidProof:
        raise
    except IdentityError as exc:
        raise InvalidProof(f"the proof does not verify: {exc.detail}") from exc
    if header.get("typ") != PROOF_TYP:  # exact (Appendix F.1), not only media-type equal
        raise InvalidProof(f"proof typ must be {PROOF_TYP}")
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise InvalidProof("the proof aud is not this Credential Issuer", aud=str(aud)[:200])
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidProof("the proof has no numeric iat")
    if iat > now + leeway or iat < now - max_age:
        raise InvalidProof("the proof iat is outside the accepted window", iat=iat)
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise InvalidProof("the proof nonce must be a string")
    return VerifiedProof(key, did, nonce)
