"""Key discovery for JOSE/COSE envelopes (VC-JOSE-COSE §4): ``kid`` -> a public key.

``kid`` must be an absolute DID URL of a verification method (§4.3: "when iss is absent
... the kid MUST be an absolute URL to a verification method"). Ed25519 methods of every
DID method the service resolves (did:key, did:web, did:cityid) come from its resolver,
with their proof purposes; a P-256 ``did:key`` (``zDn…``, multicodec p256-pub 0x1200,
a compressed SEC1 point; did:key v0.9 §2) is decoded here, as did:key documents derive
every relationship from the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from identity.dids import DidResolver
from identity.encoding import b58_decode
from identity.errors import IdentityError, InvalidVerificationMethodError
from identity.jose.keys import PublicJwk
from identity.keys import Ed25519PublicKey

P256_PUB_PREFIX = b"\x80\x24"  # varint of multicodec 0x1200


@dataclass(frozen=True, slots=True)
class DiscoveredKey:
    """The key a ``kid`` names: its method id, controller, and the public key (raw
    Ed25519 bytes, or a pyca P-256 key)."""

    id: str
    controller: str
    ed25519: bytes | None = None
    p256: ec.EllipticCurvePublicKey | None = None

    def jwk(self) -> PublicJwk:
        """The key as a public JWK (:mod:`identity.jose.keys`)."""
        if self.ed25519 is not None:
            return PublicJwk.from_ed25519(Ed25519PublicKey(self.ed25519))
        assert self.p256 is not None
        members = ECKey.import_key(self.p256).as_dict(private=False)
        return PublicJwk.from_dict({k: members[k] for k in ("kty", "crv", "x", "y")})


def _p256_did_key(kid: str) -> DiscoveredKey | None:
    did, _, fragment = kid.partition("#")
    msid = did.removeprefix("did:key:")
    if not did.startswith("did:key:zDn"):
        return None
    if fragment and fragment != msid:
        raise InvalidVerificationMethodError("did:key fragment does not match the key", kid=kid)
    try:
        data = b58_decode(msid[1:])
        if not data.startswith(P256_PUB_PREFIX) or len(data) != 35:
            raise ValueError("not a p256-pub key")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:])
    except (ValueError, IdentityError):
        raise InvalidVerificationMethodError(
            "did:key is not a valid P-256 key", kid=kid[:200]
        ) from None
    return DiscoveredKey(f"{did}#{msid}", did, p256=key)


def discover(kid: Any, resolver: DidResolver, purpose: str) -> DiscoveredKey:
    """The verification method ``kid`` names, authorised for ``purpose``; raise
    :class:`InvalidVerificationMethodError` (or the resolver's error)."""
    if not isinstance(kid, str) or not kid.startswith("did:") or "#" not in kid:
        raise InvalidVerificationMethodError(
            "kid must be an absolute DID URL of a verification method (VC-JOSE-COSE §4.3)",
            kid=str(kid)[:200],
        )
    p256 = _p256_did_key(kid)
    if p256 is not None:
        return p256
    method = resolver.verification_method(kid)
    method.require(purpose)
    return DiscoveredKey(method.id, method.controller, ed25519=method.public_key.raw)
