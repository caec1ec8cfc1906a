"""Ed25519Signature2020, the legacy suite (EdDSA Cryptosuites v1.0, Appendix
"Ed25519Signature2020" and CCG Ed25519 Signature 2020) -- kept so older credentials verify.

It is eddsa-rdfc-2022 in all but names: RDFC-1.0 of the document, RDFC-1.0 of the proof
options under the document's ``@context``, SHA-256(config) ‖ SHA-256(document), Ed25519.
The proof has ``type: Ed25519Signature2020`` and no ``cryptosuite``, and its terms come
from the suite context, which the document's ``@context`` must therefore include.

Its verification method is specified as an ``Ed25519VerificationKey2020``; a did:key
resolves to a ``Multikey`` method instead. Both carry the same ``publicKeyMultibase``
(``z`` + base58btc(0xed01 ‖ key)), so either is accepted (identity.dids reads both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from identity.canonical import ContextSource
from identity.canonical.quads import Rdfc
from identity.errors import ProofVerificationError
from identity.proofs.eddsa_rdfc import cache_key, cached_rdfc, proof_config, rdfc_hash

Json = dict[str, Any]

SUITE_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"


@dataclass(frozen=True, slots=True, eq=False)
class Ed25519Signature2020:
    """The legacy Ed25519Signature2020 suite: verifies (and can sign) proofs of ``type:
    Ed25519Signature2020`` with no ``cryptosuite``; contexts come only from ``loader``."""

    loader: ContextSource
    proof_type: str = field(default="Ed25519Signature2020", init=False)
    cryptosuite: str | None = field(default=None, init=False)
    rdfc: Rdfc = field(init=False, repr=False)
    _canonical_config: Callable[[str], bytes] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rdfc", Rdfc(self.loader))
        object.__setattr__(self, "_canonical_config", cached_rdfc(self.rdfc))

    def transform(self, unsecured: Json) -> bytes:
        """RDFC-1.0 canonical N-Quads of the unsecured document, as UTF-8."""
        return self.rdfc(unsecured).encode("utf-8")

    def configure(self, proof_options: Json, unsecured: Json) -> bytes:
        """RDFC-1.0 of the proof options under the document's ``@context`` (cached); a proof of
        another type, one with a ``cryptosuite``, a bad ``created`` or a document without the
        suite context is a :class:`~identity.errors.ProofVerificationError`."""
        if proof_options.get("type") != self.proof_type or "cryptosuite" in proof_options:
            raise ProofVerificationError("proof type must be Ed25519Signature2020")
        _require_suite_context(unsecured)
        return self._canonical_config(cache_key(proof_config(proof_options, unsecured)))

    def hash(self, transformed: bytes, config: bytes) -> bytes:
        """SHA-256(config) ‖ SHA-256(document): 64 bytes, as eddsa-rdfc-2022."""
        return rdfc_hash(transformed, config)

    def proof_options(self, options: Json, unsecured: Json) -> Json:
        """The options unchanged: the proof takes its terms from the document's ``@context`` and
        carries none of its own."""
        return options

    def prepare_verification(self, unsecured: Json, proof_options: Json) -> Json:
        """The document unchanged, once it is known to include the suite context (else
        :class:`~identity.errors.ProofVerificationError`)."""
        _require_suite_context(unsecured)
        return unsecured


def _require_suite_context(document: Json) -> None:
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if SUITE_CONTEXT not in contexts:
        raise ProofVerificationError(
            f"an Ed25519Signature2020 proof needs {SUITE_CONTEXT} in the document's @context"
        )
