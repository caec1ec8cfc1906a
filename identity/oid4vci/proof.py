"""The JWT key proof of a Credential Request (OID4VCI 1.0 Appendix F.1).

``typ`` is ``openid4vci-proof+jwt``; the holder key is in the header as ``jwk`` or named
by ``kid``, a DID URL naming "a particular key in the DID Document that the Credential
shall be bound to" (Appendix F.1): a ``did:key`` URL is resolved here without I/O; any
other DID URL by the caller's :class:`KeyMethods` (the service's resolver, e.g. a
``did:cityid`` whose document holds the citizen's browser key), and the method must be
in the document's ``authentication`` relationship (DID Core §5.3.1: proving control of
the DID in a challenge-response, which a key proof over a ``c_nonce`` is). Never both
``jwk`` and ``kid``, and never ``x5c`` (not supported). Claims: ``aud`` = the
Credential Issuer Identifier, ``iat`` within the allowed window, ``nonce`` = a
``c_nonce`` from the Nonce Endpoint (checked and consumed by the caller, who owns the
store). ``iss`` is the client_id when present.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from identity.dids import VerificationMethod
from identity.dids.key import key_from_did
from identity.errors import IdentityError
from identity.jose.discovery import _p256_did_key
from identity.jose.jws import parse_compact, verify_compact
from identity.jose.keys import PublicJwk
from identity.oid4vci.errors import InvalidProof

PROOF_TYP = "openid4vci-proof+jwt"
ALGORITHMS = ("EdDSA", "Ed25519", "ES256")
#: the verification relationship a DID-named proof key must have (DID Core §5.3.1)
PROOF_PURPOSE = "authentication"


class KeyMethods(Protocol):
    """Dereferences a DID URL to a verification method (the service's resolver)."""

    def verification_method(self, url: str, at: datetime | None = None) -> VerificationMethod:
        """The method ``url`` names in its DID's current document, or an
        :class:`~identity.errors.IdentityError`."""
        ...


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A proof whose signature, ``typ``, ``aud`` and ``iat`` verified; ``nonce`` is still
    the caller's to consume. ``did`` is the holder's did:key when the proof named one."""

    holder: PublicJwk
    did: str | None
    nonce: str | None


def holder_key(
    header: dict[str, Any], methods: KeyMethods | None = None
) -> tuple[PublicJwk, str | None]:
    """The key a proof header names (``jwk``, or ``kid`` as a DID URL) and its DID. A
    ``kid`` of another method than did:key needs ``methods``; without, it is refused."""
    if ("jwk" in header) == ("kid" in header):
        raise InvalidProof("the proof header carries exactly one of jwk and kid")
    if "jwk" in header:
        return PublicJwk.from_dict(header["jwk"]), None
    kid = header["kid"]
    if not isinstance(kid, str) or not kid.startswith("did:") or "#" not in kid:
        raise InvalidProof("kid must be a DID URL naming one key", kid=str(kid)[:200])
    if not kid.startswith("did:key:"):
        return _document_key(kid, methods)
    did, _, fragment = kid.partition("#")
    p256 = _p256_did_key(kid)
    if p256 is not None:
        return p256.jwk(), did
    key = key_from_did(did)
    if fragment != did.removeprefix("did:key:"):
        raise InvalidProof("the did:key fragment does not name its key", kid=kid[:200])
    return PublicJwk.from_ed25519(key), did


def _document_key(kid: str, methods: KeyMethods | None) -> tuple[PublicJwk, str]:
    """The key ``kid`` names in its DID's document, if an ``authentication`` method (one
    listed there authenticates as the DID subject, whoever its controller, DID Core
    §5.3.1)."""
    if methods is None:
        raise InvalidProof("kid must be a did:key DID URL", kid=kid[:200])
    did = kid.partition("#")[0]
    try:
        method = methods.verification_method(kid)
        method.require(PROOF_PURPOSE)
    except IdentityError as exc:
        raise InvalidProof(
            f"kid is no key of its DID document: {exc.detail}", kid=kid[:200]
        ) from exc
    return PublicJwk.from_ed25519(method.public_key), did


def verify_proof(
    jwt: object,
    *,
    audience: str,
    now: int,
    max_age: int,
    leeway: int = 60,
    methods: KeyMethods | None = None,
) -> VerifiedProof:
    """Verify one ``jwt`` proof; :class:`InvalidProof` for every failure (the nonce
    excepted: the caller raises :class:`~identity.oid4vci.errors.InvalidNonce`).
    ``methods`` dereferences a ``kid`` that is not a did:key (see the module)."""
    try:
        header = parse_compact(jwt).header
        key, did = holder_key(header, methods)
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
