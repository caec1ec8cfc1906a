"""A second, independent eddsa-jcs-2022 signer for tests (vc-di-eddsa §3.3).

Written from the specification with rfc8785, pynacl and base58 only; it imports nothing of
``identity`` so that a bug shared by our Issuer and our verifier cannot hide. It produces the
proof shapes other implementations emit: with or without a proof ``@context``, with or
without ``created``, and ``proof`` as an object or a one-element list.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

import base58
import rfc8785
from nacl.signing import SigningKey

Json = dict[str, Any]

ED25519_PUB_MULTICODEC = b"\xed\x01"


@dataclass(frozen=True)
class DidKeySigner:
    """An Ed25519 key and its did:key (did:key §3.1.2, multicodec 0xed, base58btc)."""

    seed: bytes

    @property
    def _key(self) -> SigningKey:
        return SigningKey(self.seed)

    @property
    def did(self) -> str:
        public = bytes(self._key.verify_key)
        return "did:key:z" + base58.b58encode(ED25519_PUB_MULTICODEC + public).decode()

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    def sign_jcs(
        self,
        unsecured: Json,
        *,
        created: str | None = "2026-05-01T00:00:00Z",
        proof_context: bool = True,
        as_list: bool = False,
    ) -> Json:
        """``unsecured`` with an eddsa-jcs-2022 proof in the requested shape.

        §3.3.1: the proof options are the proof without ``proofValue``; when the proof
        carries ``@context`` it is the document's. §3.3.5 hashes exactly those options
        (JCS), §3.3.3 the document (JCS), §3.3.4 concatenates SHA-256(options) and
        SHA-256(document), and the Ed25519 signature is encoded base58btc with ``z``.
        """
        options: Json = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": self.verification_method,
            "proofPurpose": "assertionMethod",
        }
        if created is not None:
            options["created"] = created
        if proof_context:
            options["@context"] = unsecured["@context"]
        hash_data = (
            hashlib.sha256(rfc8785.dumps(options)).digest()
            + hashlib.sha256(rfc8785.dumps(unsecured)).digest()
        )
        signature = self._key.sign(hash_data).signature
        proof = {**options, "proofValue": "z" + base58.b58encode(signature).decode()}
        secured = copy.deepcopy(unsecured)
        secured["proof"] = [proof] if as_list else proof
        return secured
