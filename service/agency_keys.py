"""Agencies' signing keys: sealed at rest, unsealed once per process, named by method."""

from __future__ import annotations

import threading

from identity.keys import Ed25519PrivateKey, KeySealer
from identity.stores import IssuerRecord


def verification_method(issuer: IssuerRecord) -> str:
    """The agency's signing method: ``did:key:z…#z…`` (did:key §3.1.1)."""
    return f"{issuer.did}#{issuer.did.removeprefix('did:key:')}"


class AgencyKeys:
    """The agencies' Ed25519 keys under the service's :class:`KeySealer`.

    A key is unsealed on first use and kept in process memory, so signing costs no
    unsealing; the cache is keyed by agency id, whose sealed key never changes.
    """

    def __init__(self, sealer: KeySealer) -> None:
        self._sealer = sealer
        self._keys: dict[str, Ed25519PrivateKey] = {}
        self._lock = threading.Lock()

    def seal(self, key: Ed25519PrivateKey) -> bytes:
        """``key`` sealed for an agency record's ``sealed_key``."""
        return self._sealer.seal(key)

    def signing_key(self, issuer: IssuerRecord) -> Ed25519PrivateKey:
        """The agency's unsealed key, cached in process memory after first use."""
        with self._lock:
            key = self._keys.get(issuer.id)
        if key is None:
            key = self._sealer.open(issuer.sealed_key)
            with self._lock:
                self._keys[issuer.id] = key
        return key

    def signing_key_and_method(self, issuer: IssuerRecord) -> tuple[Ed25519PrivateKey, str]:
        """The agency's key and the verification method a proof names it by."""
        return self.signing_key(issuer), verification_method(issuer)
