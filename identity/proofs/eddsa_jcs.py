"""eddsa-jcs-2022 (W3C Data Integrity EdDSA Cryptosuites v1.0 §3.3).

Transformation is RFC 8785 JCS of the unsecured document (§3.3.3); the proof
configuration is the proof options, with the document's ``@context`` copied in, under
JCS (§3.3.5); hashing is SHA-256(config) ‖ SHA-256(document) (§3.3.4).
"""

from __future__ import annotations

import hashlib
from typing import Any

from identity.canonical import jcs
from identity.errors import ProofVerificationError

Json = dict[str, Any]


class EddsaJcs2022:
    proof_type = "DataIntegrityProof"
    cryptosuite: str | None = "eddsa-jcs-2022"

    def transform(self, unsecured: Json) -> bytes:
        return jcs(unsecured)

    def configure(self, proof_options: Json, unsecured: Json) -> bytes:
        # §3.3.5 step 4: the proof configuration carries the document's @context.
        config = dict(proof_options)
        if "@context" in unsecured:
            config["@context"] = unsecured["@context"]
        return jcs(config)

    def hash(self, transformed: bytes, config: bytes) -> bytes:
        return hashlib.sha256(config).digest() + hashlib.sha256(transformed).digest()

    def proof_options(self, options: Json, unsecured: Json) -> Json:
        # §3.3.1 step 2: the proof carries the document's @context when it has one.
        if "@context" in unsecured and "@context" not in options:
            return {**options, "@context": unsecured["@context"]}
        return options

    def prepare_verification(self, unsecured: Json, proof_options: Json) -> Json:
        """§3.3.2 steps 2-3: when the proof carries an ``@context``, the document's
        ``@context`` must start with those same values; the proof's then wins."""
        proof_context = proof_options.get("@context")
        if proof_context is None:
            return unsecured
        doc_context = unsecured.get("@context")
        wanted = proof_context if isinstance(proof_context, list) else [proof_context]
        have = doc_context if isinstance(doc_context, list) else [doc_context]
        if have[: len(wanted)] != wanted:
            raise ProofVerificationError(
                "document @context does not start with the proof's @context"
            )
        return {**unsecured, "@context": proof_context}
