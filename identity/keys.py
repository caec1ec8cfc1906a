"""Ed25519 keys over PyNaCl (libsodium), in the shape of pyca/cryptography's key API.

``sign`` returns the 64-byte signature; ``verify`` returns ``None`` or raises
:class:`~identity.errors.ProofVerificationError` -- never a bare bool.

Private keys at rest are *sealed* with :class:`KeySealer` (XSalsa20-Poly1305 SecretBox
under a key derived from the operator's master secret), never stored in the clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import nacl.bindings as sodium
import nacl.exceptions
import nacl.secret
import nacl.utils

from identity.encoding import ED25519_PUB_PREFIX, multibase_decode, multibase_encode
from identity.errors import (
    InvalidVerificationMethodError,
    MalformedValueError,
    ProofVerificationError,
    SealedKeyError,
)

RandomBytes = Callable[[int], bytes]

PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
SIGNATURE_SIZE = 64


@dataclass(frozen=True, slots=True)
class Ed25519PublicKey:
    """A 32-byte Ed25519 public key (RFC 8032 §5.1.5); any other length raises
    :class:`~identity.errors.InvalidVerificationMethodError` at construction."""

    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != PUBLIC_KEY_SIZE:
            raise InvalidVerificationMethodError("an Ed25519 public key is exactly 32 bytes")

    @classmethod
    def from_multibase(cls, value: str) -> Ed25519PublicKey:
        """Parse a Multikey ``publicKeyMultibase`` (``z`` + base58btc(0xed01 ‖ key))."""
        if not isinstance(value, str) or not value.startswith("z"):
            raise InvalidVerificationMethodError("publicKeyMultibase must be base58btc ('z')")
        try:
            data = multibase_decode(value)
        except Exception as exc:
            raise InvalidVerificationMethodError(
                "publicKeyMultibase is not valid base58btc"
            ) from exc
        if not data.startswith(ED25519_PUB_PREFIX):
            raise InvalidVerificationMethodError("publicKeyMultibase is not an ed25519-pub key")
        return cls(data[len(ED25519_PUB_PREFIX) :])

    @property
    def multibase(self) -> str:
        """The Multikey encoding, ``z6Mk…``."""
        return multibase_encode(ED25519_PUB_PREFIX + self.raw)

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check an Ed25519 signature (RFC 8032 §5.1.7); raise if it does not verify."""
        if len(signature) != SIGNATURE_SIZE:
            raise ProofVerificationError("an Ed25519 signature is exactly 64 bytes")
        try:
            sodium.crypto_sign_open(signature + message, self.raw)
        except nacl.exceptions.BadSignatureError as exc:
            raise ProofVerificationError("signature does not verify") from exc


@dataclass(frozen=True, slots=True)
class Ed25519PrivateKey:
    """An Ed25519 signing key. ``repr`` never shows the seed; a seed that is not exactly
    32 bytes is :class:`~identity.errors.MalformedValueError`."""

    seed: bytes = field(repr=False)
    _secret: bytes = field(init=False, repr=False, compare=False)
    _public: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != SEED_SIZE:
            raise MalformedValueError("an Ed25519 seed is exactly 32 bytes")
        pk, sk = sodium.crypto_sign_seed_keypair(self.seed)
        object.__setattr__(self, "_secret", sk)
        object.__setattr__(self, "_public", Ed25519PublicKey(pk))

    @classmethod
    def generate(cls, random: RandomBytes = nacl.utils.random) -> Ed25519PrivateKey:
        """A new key from 32 bytes of ``random`` (libsodium's CSPRNG unless a test passes its
        own)."""
        return cls(random(SEED_SIZE))

    def public_key(self) -> Ed25519PublicKey:
        """The matching public key, derived once at construction."""
        return self._public

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached Ed25519 signature of ``message`` (RFC 8032 §5.1.6):
        deterministic, so the same key and message always give the same bytes."""
        signed: bytes = sodium.crypto_sign(message, self._secret)
        return signed[:SIGNATURE_SIZE]


class KeySealer:
    """Seals private keys at rest under a key derived from the operator's master secret.

    The box key is BLAKE2b-256(master, person="identity-seal"): one box key per master
    secret, whatever kind of key is sealed. A master secret shorter than 32 bytes is
    :class:`~identity.errors.MalformedValueError`.
    """

    def __init__(self, master_secret: bytes, random: RandomBytes = nacl.utils.random) -> None:
        if len(master_secret) < 32:
            raise MalformedValueError("the master secret must be at least 32 bytes")
        key = hashlib.blake2b(master_secret, digest_size=32, person=b"identity-seal").digest()
        self._box = nacl.secret.SecretBox(key)
        self._random = random

    def seal(self, key: Ed25519PrivateKey) -> bytes:
        """The seed sealed for storage: a fresh 24-byte nonce, then the SecretBox ciphertext and
        its 16-byte tag (72 bytes in all)."""
        nonce = self._random(nacl.secret.SecretBox.NONCE_SIZE)
        return bytes(self._box.encrypt(key.seed, nonce))

    def open(self, sealed: bytes) -> Ed25519PrivateKey:
        """The key sealed by :meth:`seal` under the same master secret; a tampered box or another
        secret raises :class:`~identity.errors.SealedKeyError` (never a partial key)."""
        try:
            return Ed25519PrivateKey(self._box.decrypt(sealed))
        except (nacl.exceptions.CryptoError, MalformedValueError) as exc:
            raise SealedKeyError("sealed key does not open with this master secret") from exc
