"""identity/oid4vci/proof.py without I/O: a ``kid`` that is not a did:key is dereferenced
by the caller's :class:`KeyMethods`, and only an ``authentication`` method is a proof key
(DID Core §5.3.1); every other answer is InvalidProof."""

from __future__ import annotations

from datetime import datetime

import pytest

from identity.dids import VerificationMethod
from identity.errors import InvalidVerificationMethodError
from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey
from identity.oid4vci.errors import InvalidProof
from identity.oid4vci.proof import verify_proof
from identity.wallet_client.issuance import key_proof

KEY = Ed25519PrivateKey(b"\x51" * 32)
DID = "did:cityid:zTest"
AUD = "https://issuer.example"


class Methods:
    """A DID document of one method, ``#key-1``, with the given purposes."""

    def __init__(self, purposes: frozenset[str]) -> None:
        self.purposes = purposes

    def verification_method(self, url: str, at: datetime | None = None) -> VerificationMethod:
        if url != DID + "#key-1":
            raise InvalidVerificationMethodError("no such method", verificationMethod=url)
        return VerificationMethod(url, DID, KEY.public_key(), purposes=self.purposes)


def jwt(kid: str) -> str:
    return key_proof(SigningKey.from_ed25519(KEY), audience=AUD, nonce="n", issued_at=100, kid=kid)


def check(kid: str, methods: Methods | None) -> str | None:
    return verify_proof(jwt(kid), audience=AUD, now=100, max_age=60, methods=methods).did


def test_an_authentication_method_of_the_document_is_the_proof_key() -> None:
    assert check(DID + "#key-1", Methods(frozenset({"authentication"}))) == DID


@pytest.mark.parametrize(
    ("kid", "methods"),
    [
        (DID + "#key-1", None),  # nothing to dereference it with
        (DID + "#key-1", Methods(frozenset({"assertionMethod"}))),  # not authentication
        (DID + "#key-2", Methods(frozenset({"authentication"}))),  # not in the document
        (DID, Methods(frozenset({"authentication"}))),  # a DID, not a DID URL
        ("key-1", Methods(frozenset({"authentication"}))),  # not a DID URL at all
    ],
)
def test_anything_else_is_invalid_proof(kid: str, methods: Methods | None) -> None:
    with pytest.raises(InvalidProof):
        check(kid, methods)
