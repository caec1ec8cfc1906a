"""eddsa-rdfc-2022 (W3C Data Integrity EdDSA Cryptosuites v1.0 §3.2).

Transformation is RDFC-1.0 canonical N-Quads of the unsecured document (§3.2.3); the proof
configuration is the proof options with the document's ``@context``, also under RDFC-1.0
(§3.2.5); hashing is SHA-256(canonical config) ‖ SHA-256(canonical document) (§3.2.4).
Each hash is over the *whole* canonical N-Quads string, which ends with ``"\\n"``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from identity.canonical import ContextSource
from identity.canonical.quads import Rdfc
from identity.errors import MalformedProofError, ProofVerificationError

Json = dict[str, Any]

CONFIG_CACHE_SIZE = 1024

# XML Schema 1.1 Part 2 §3.4.28 dateTimeStamp: a dateTime with a mandatory timezone.
DATE_TIME_STAMP = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True, slots=True, eq=False)
class EddsaRdfc2022:
    """The eddsa-rdfc-2022 cryptosuite; contexts come only from ``loader``. RDFC-1.0 runs
    through :class:`~identity.canonical.quads.Rdfc` (the fast path, proved equal to the
    reference ``rdfc``, which decides whenever the fast path is not sure; ``fast_path=False``
    only for measuring the reference)."""

    loader: ContextSource
    fast_path: bool = True
    proof_type: str = field(default="DataIntegrityProof", init=False)
    cryptosuite: str | None = field(default="eddsa-rdfc-2022", init=False)
    rdfc: Rdfc = field(init=False, repr=False)
    _canonical_config: Callable[[str], bytes] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rdfc", Rdfc(self.loader, fast=self.fast_path))
        object.__setattr__(self, "_canonical_config", cached_rdfc(self.rdfc))

    def transform(self, unsecured: Json) -> bytes:
        """§3.2.3 Transformation: RDFC-1.0 of the unsecured document."""
        return self.rdfc(unsecured).encode("utf-8")

    def configure(self, proof_options: Json, unsecured: Json) -> bytes:
        """§3.2.5 Proof Configuration."""
        if (proof_options.get("type"), proof_options.get("cryptosuite")) != (
            self.proof_type,
            self.cryptosuite,
        ):
            raise ProofVerificationError(
                "proof type must be DataIntegrityProof with cryptosuite eddsa-rdfc-2022"
            )
        return self._canonical_config(cache_key(proof_config(proof_options, unsecured)))

    def hash(self, transformed: bytes, config: bytes) -> bytes:
        """§3.2.4 Hashing: proofConfigHash ‖ transformedDocumentHash."""
        return rdfc_hash(transformed, config)

    def proof_options(self, options: Json, unsecured: Json) -> Json:
        """The options as given: the new proof is created with exactly them."""
        # §3.2.1: unlike eddsa-jcs-2022, the proof does not carry an @context of its own.
        return options

    def prepare_verification(self, unsecured: Json, proof_options: Json) -> Json:
        """§3.2.2 steps 4-5 (:func:`proof_context_wins`): the document to verify, under the
        proof's ``@context`` when the proof has one."""
        return proof_context_wins(unsecured, proof_options)


def cached_rdfc(canonicalize: Callable[[Json], str]) -> Callable[[str], bytes]:
    """RDFC-1.0 (by ``canonicalize``) of proof configurations, cached by
    :func:`cache_key`. A configuration is small and often repeated (many proofs by one
    issuer); its canonical form depends only on its JSON value and the loader's
    (immutable) contexts."""

    @functools.lru_cache(maxsize=CONFIG_CACHE_SIZE)
    def canonical(key: str) -> bytes:
        return canonicalize(json.loads(key)).encode("utf-8")

    return canonical


def cache_key(config: Json) -> str:
    """A key that round-trips the JSON value exactly. Not JCS: JCS writes 1.0 as ``1``,
    yet JSON-LD turns 1.0 into an xsd:double and 1 into an xsd:integer."""
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MalformedProofError("proof options are not a JSON value") from exc


def rdfc_hash(transformed: bytes, config: bytes) -> bytes:
    """§3.2.4 Hashing: SHA-256(config) ‖ SHA-256(transformed) -- config first, 64 bytes."""
    return hashlib.sha256(config).digest() + hashlib.sha256(transformed).digest()


def proof_config(proof_options: Json, unsecured: Json) -> Json:
    """§3.2.5 steps 1-4: check ``created``; the config takes the document's @context."""
    created = proof_options.get("created")
    if created is not None and (not isinstance(created, str) or not DATE_TIME_STAMP.match(created)):
        raise ProofVerificationError("proof.created must be an XML Schema dateTimeStamp")
    config = dict(proof_options)
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    return config


def proof_context_wins(unsecured: Json, proof_options: Json) -> Json:
    """§3.2.2 steps 4-5: when the proof carries an ``@context``, the document's must start
    with it, and the proof's is used."""
    proof_context = proof_options.get("@context")
    if proof_context is None:
        return unsecured
    wanted = proof_context if isinstance(proof_context, list) else [proof_context]
    have = unsecured.get("@context")
    have = have if isinstance(have, list) else [have]
    if have[: len(wanted)] != wanted:
        raise ProofVerificationError("document @context does not start with the proof's @context")
    return {**unsecured, "@context": proof_context}
