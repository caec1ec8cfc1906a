"""JWKs (RFC 7517) for the keys the service signs and verifies JOSE objects with.

Two key types only: OKP Ed25519 (RFC 8037), the agencies' keys, verified with ``alg``
``EdDSA`` (RFC 8037 §3.1) or the fully specified ``Ed25519`` (RFC 9864 §2.2); and EC
P-256 (RFC 7518 §6.2), holder keys as the EU wallet profile requires, ``alg`` ``ES256``.
A :class:`PublicJwk` never carries private members; a :class:`SigningKey` never shows
them in ``repr``. joserfc does the key arithmetic; this module is the one place its key
objects are built.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nacl.utils
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, OKPKey

from identity.canonical import jcs
from identity.errors import InvalidVerificationMethodError
from identity.keys import Ed25519PrivateKey, Ed25519PublicKey

RandomBytes = Callable[[int], bytes]

EDDSA = "EdDSA"  # RFC 8037 §3.1 (polymorphic: the curve comes from the key)
ED25519 = "Ed25519"  # RFC 9864 §2.2 (fully specified)
ES256 = "ES256"  # RFC 7518 §3.4
ED25519_ALGORITHMS = frozenset({EDDSA, ED25519})
ES256_ALGORITHMS = frozenset({ES256})

#: order of the P-256 group (SEC 2 §2.4.2), for deriving a private scalar from random bytes
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_JWK_MEMBERS = 32


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    """Strict base64url without padding: raises ``ValueError`` on padding or stray bytes."""
    if not isinstance(value, str) or "=" in value or len(value) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except Exception as exc:
        raise ValueError("not unpadded base64url") from exc
    if b64url(raw) != value:  # non-canonical trailing bits
        raise ValueError("not canonical base64url")
    return raw


def _member(jwk: Mapping[str, Any], name: str, size: int) -> str:
    value = jwk.get(name)
    try:
        raw = b64url_decode(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise InvalidVerificationMethodError(
            f"JWK member {name!r} must be {size} bytes, base64url", member=name
        )
    return str(value)


@dataclass(frozen=True, slots=True)
class PublicJwk:
    """A public JWK of type OKP/Ed25519 (``y`` is None) or EC/P-256.

    Built with :meth:`from_dict` (which refuses private members and other curves) or
    :meth:`from_ed25519`; equal keys compare equal whatever members the source carried.
    """

    kty: str
    crv: str
    x: str
    y: str | None = None

    @classmethod
    def from_dict(cls, value: object) -> PublicJwk:
        """Parse a public JWK; raises :class:`InvalidVerificationMethodError` for any other
        key type or curve, a malformed coordinate, or private members (a ``cnf`` or
        issuer metadata must never carry a private key)."""
        if not isinstance(value, Mapping) or len(value) > MAX_JWK_MEMBERS:
            raise InvalidVerificationMethodError("a JWK is a JSON object")
        if PRIVATE_MEMBERS & set(value):
            raise InvalidVerificationMethodError("a public JWK must not carry private members")
        kty, crv = value.get("kty"), value.get("crv")
        if kty == "OKP" and crv == "Ed25519":
            return cls("OKP", "Ed25519", _member(value, "x", 32))
        if kty == "EC" and crv == "P-256":
            key = cls("EC", "P-256", _member(value, "x", 32), _member(value, "y", 32))
            key._joserfc()  # the point must be on the curve
            return key
        raise InvalidVerificationMethodError(
            "only OKP/Ed25519 and EC/P-256 keys are accepted", kty=str(kty), crv=str(crv)
        )

    @classmethod
    def from_ed25519(cls, key: Ed25519PublicKey) -> PublicJwk:
        """The OKP JWK of an Ed25519 public key (RFC 8037 §2)."""
        return cls("OKP", "Ed25519", b64url(key.raw))

    @property
    def algorithms(self) -> frozenset[str]:
        """The JWS ``alg`` values this key verifies: EdDSA and Ed25519, or ES256."""
        return ED25519_ALGORITHMS if self.kty == "OKP" else ES256_ALGORITHMS

    def to_dict(self) -> dict[str, str]:
        """The JWK's required members only (as RFC 7638 §3.2 lists them)."""
        out = {"kty": self.kty, "crv": self.crv, "x": self.x}
        if self.y is not None:
            out["y"] = self.y
        return out

    def thumbprint(self) -> str:
        """The RFC 7638 JWK thumbprint, SHA-256, base64url."""
        # RFC 7638 §3.3: the required members, no whitespace, sorted: their JCS form.
        return b64url(hashlib.sha256(jcs(self.to_dict())).digest())

    def ed25519(self) -> Ed25519PublicKey:
        """The Ed25519 public key of an OKP JWK; raises for an EC key."""
        if self.kty != "OKP":
            raise InvalidVerificationMethodError("not an Ed25519 key")
        return Ed25519PublicKey(b64url_decode(self.x))

    def _joserfc(self) -> OKPKey | ECKey:
        try:
            members: dict[str, str | list[str]] = {**self.to_dict()}
            if self.kty == "OKP":
                return OKPKey.import_key(members)
            return ECKey.import_key(members)
        except Exception as exc:  # joserfc/cryptography reject a point off the curve
            raise InvalidVerificationMethodError("the JWK is not a valid public key") from exc


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private JOSE signing key, Ed25519 or P-256, and the ``alg`` it signs with.

    Ed25519 keys sign as ``EdDSA`` by default: the JWS algorithm every SD-JWT library
    verifies (the fully specified ``Ed25519`` is accepted on verification).
    """

    public_jwk: PublicJwk
    alg: str
    _key: OKPKey | ECKey = field(repr=False, compare=False)

    @classmethod
    def from_ed25519(cls, key: Ed25519PrivateKey, alg: str = EDDSA) -> SigningKey:
        """A JOSE signing key over an agency's Ed25519 key (the same seed, the same key)."""
        if alg not in ED25519_ALGORITHMS:
            raise ValueError(f"an Ed25519 key signs with EdDSA or Ed25519, not {alg}")
        public = PublicJwk.from_ed25519(key.public_key())
        okp = OKPKey.import_key({**public.to_dict(), "d": b64url(key.seed)})
        return cls(public, alg, okp)

    @classmethod
    def generate_p256(cls, random: RandomBytes = nacl.utils.random) -> SigningKey:
        """A new P-256 key (ES256) whose scalar is drawn from ``random`` (a holder's key)."""
        scalar = int.from_bytes(random(48), "big") % (P256_ORDER - 1) + 1  # bias < 2^-128
        private = ec.derive_private_key(scalar, ec.SECP256R1())
        return cls._from_ec(ECKey.import_key(private))

    @classmethod
    def generate_ed25519(cls, random: RandomBytes = nacl.utils.random) -> SigningKey:
        """A new Ed25519 key (EdDSA) from ``random``."""
        return cls.from_ed25519(Ed25519PrivateKey.generate(random))

    @classmethod
    def from_private_jwk(cls, value: Mapping[str, Any]) -> SigningKey:
        """A signing key from a private JWK (``d`` present), OKP/Ed25519 or EC/P-256."""
        public = PublicJwk.from_dict(
            {k: v for k, v in value.items() if k in {"kty", "crv", "x", "y"}}
        )
        d = value.get("d")
        try:
            seed = b64url_decode(d) if isinstance(d, str) else b""
        except ValueError:
            seed = b""
        if len(seed) != 32:
            raise InvalidVerificationMethodError("a private JWK's 'd' must be 32 bytes")
        if public.kty == "OKP":
            key = cls.from_ed25519(Ed25519PrivateKey(seed))
            if key.public_jwk != public:
                raise InvalidVerificationMethodError("the JWK's 'x' is not the key of its 'd'")
            return key
        try:
            ec_key = ECKey.import_key({**public.to_dict(), "d": str(d)})
        except Exception as exc:
            raise InvalidVerificationMethodError("not a valid P-256 private JWK") from exc
        return cls._from_ec(ec_key)

    @classmethod
    def _from_ec(cls, key: ECKey) -> SigningKey:
        public = PublicJwk.from_dict(
            {k: v for k, v in key.as_dict(private=False).items() if k in {"kty", "crv", "x", "y"}}
        )
        return cls(public, ES256, key)

    def private_jwk(self) -> dict[str, str]:
        """The private JWK (with ``d``): for a holder's own wallet file, never logged."""
        members = self._key.as_dict(private=True)
        return {k: str(v) for k, v in members.items() if k in {"kty", "crv", "x", "y", "d"}}

    def joserfc_key(self) -> OKPKey | ECKey:
        """The joserfc key object (for :mod:`identity.jose.jws` and COSE callers)."""
        return self._key
