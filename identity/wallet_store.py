"""The city-hosted wallet: each credential issued to a citizen, sealed at rest.

The credential store (:mod:`identity.stores`) keeps identifiers and digests only. The
wallet keeps the issued bytes too, so that a citizen signed in with their DID can list
their credentials and have one rendered as a QR code (issue #14) without carrying the
file. The bytes are sealed by :class:`WalletSealer` before they reach a store: a stolen
database or Redis dump holds no claims. Each sealed value is bound to its subject DID and
credential id (AEAD associated data), so a value moved to another row does not open.

:class:`WalletStore` is the storage contract, proved on every backend by
``tests/storage/test_wallet_contract.py``; :class:`~identity.storage.memory_wallet.
MemoryWalletStore` is its oracle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import nacl.bindings
import nacl.exceptions
import nacl.utils

from identity.errors import ConflictError
from identity.keys import RandomBytes

_NONCE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


@dataclass(frozen=True, slots=True)
class WalletEntry:
    """One kept credential: ``sealed`` is :meth:`WalletSealer.seal` of its JSON bytes."""

    credential_id: str
    subject_id: str
    sealed: bytes = field(repr=False)
    kept_at: datetime


class WalletStore(Protocol):
    """Sealed credentials by subject. Each call is atomic; a failing store raises
    :class:`~identity.errors.UnavailableError` with nothing written."""

    def keep(self, entry: WalletEntry) -> None:
        """Store ``entry``; :class:`~identity.errors.ConflictError` (nothing changed) when
        a credential with this id is already kept, for whichever subject."""
        ...

    def keep_many(self, entries: Sequence[WalletEntry]) -> list[ConflictError | None]:
        """Store ``entries`` in one atomic write (one transaction, one fsync): in each
        entry's slot ``None`` when it was stored, or :class:`~identity.errors.ConflictError`
        (that entry not stored, the others are) when its credential id is already kept
        or kept by an earlier entry of the same call. :class:`~identity.errors.UnavailableError`
        when the write failed: then none was stored."""
        ...

    def find(self, subject_id: str, credential_id: str) -> WalletEntry | None:
        """The entry of ``credential_id`` when it is kept for ``subject_id``; ``None``
        when it is unknown or another subject's (the two are indistinguishable)."""
        ...

    def of_subject(self, subject_id: str) -> list[WalletEntry]:
        """Every entry kept for ``subject_id``, oldest first (``kept_at``, then the order
        they were kept)."""
        ...

    def close(self) -> None:
        """Release the store's connections (a client given by the caller stays open)."""
        ...


class WalletSealer:
    """XChaCha20-Poly1305 (RFC 8439 AEAD with a 24-byte random nonce) under a key derived
    from the operator's master secret as :class:`identity.keys.KeySealer` derives its own,
    with another personalisation (``identity-wallet``), so the two never share a key.

    Associated data: the subject DID and the credential id (NUL-separated), so a sealed
    value opens only in the row it was written for.
    """

    def __init__(self, master_secret: bytes, random: RandomBytes = nacl.utils.random) -> None:
        if len(master_secret) < 32:
            raise ValueError("the master secret must be at least 32 bytes")
        self._key = hashlib.blake2b(
            master_secret, digest_size=32, person=b"identity-wallet"
        ).digest()
        self._random = random

    @staticmethod
    def _aad(subject_id: str, credential_id: str) -> bytes:
        return subject_id.encode() + b"\x00" + credential_id.encode()

    def seal(self, subject_id: str, credential_id: str, plaintext: bytes) -> bytes:
        """``nonce || ciphertext+tag`` of ``plaintext`` for this subject and credential."""
        nonce = self._random(_NONCE)
        aad = self._aad(subject_id, credential_id)
        box = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, aad, nonce, self._key
        )
        return bytes(nonce + box)

    def open(self, subject_id: str, credential_id: str, sealed: bytes) -> bytes:
        """The plaintext; :class:`ValueError` when ``sealed`` was not made by this master
        secret for this subject and credential (or was altered)."""
        nonce, box = sealed[:_NONCE], sealed[_NONCE:]
        try:
            return bytes(
                nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                    box, self._aad(subject_id, credential_id), nonce, self._key
                )
            )
        except nacl.exceptions.CryptoError as exc:
            raise ValueError("the sealed credential does not open here") from exc
