"""eddsa-jcs-2022 (W3C Data Integrity EdDSA Cryptosuites v1.0 §3.3).

Transformation is RFC 8785 JCS of the unsecured document (§3.3.3); the proof
configuration is JCS of the proof options exactly as they are (§3.3.5) -- with an
``@context`` only when the proof has one; hashing is SHA-256(config) ‖ SHA-256(document)
(§3.3.4). Our own proofs carry the document's ``@context`` (§3.3.1 step 2), but a proof
another issuer made without one verifies as given.

JCS never expands the document, so on its own this suite would sign and accept JSON-LD
that eddsa-rdfc-2022 refuses. Given a ``jsonld`` check (``identity.canonical.terms.
JsonLdChecker``) it refuses the same documents with the same errors: the unsecured
document in :meth:`transform`, the proof options (in the document's ``@context``, as the
rdfc proof configuration) in :meth:`configure`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from identity.canonical import CanonicalObject, jcs
from identity.errors import ProofVerificationError
from identity.proofs.eddsa_rdfc import DATE_TIME_STAMP

Json = dict[str, Any]


class JsonLdCheck(Protocol):
    """Raises the rdfc path's error when a document is not valid JSON-LD."""

    def check(self, document: Json) -> None:
        """Return, or raise DataLossError / InvalidJsonLdError / ContextNotAllowedError…"""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class EddsaJcs2022:
    """The eddsa-jcs-2022 cryptosuite; ``jsonld`` checks JSON-LD validity (None: not)."""

    jsonld: JsonLdCheck | None = None
    proof_type: str = field(default="DataIntegrityProof", init=False)
    cryptosuite: str | None = field(default="eddsa-jcs-2022", init=False)

    def transform(self, unsecured: Json) -> bytes:
        """§3.3.3 Transformation: JCS of the unsecured document (checked as JSON-LD)."""
        if self.jsonld is not None:
            self.jsonld.check(unsecured)
        return jcs(unsecured)

    def transform_with(self, unsecured: Json, canonical: CanonicalObject) -> bytes:
        """:meth:`transform` from the members ``canonical`` keeps: the same bytes (JCS
        of ``unsecured``), each member serialized once per request."""
        if self.jsonld is not None:
            self.jsonld.check(unsecured)
        return canonical.of(unsecured)

    def configure(self, proof_options: Json, unsecured: Json) -> bytes:
        """§3.3.5 Proof Configuration: JCS of the options as given, never with members
        added (an older draft copied the document's ``@context`` in; the Recommendation
        uses the proof's own ``@context`` only when present, §3.3.2)."""
        if (proof_options.get("type"), proof_options.get("cryptosuite")) != (
            self.proof_type,
            self.cryptosuite,
        ):
            raise ProofVerificationError(
                "proof type must be DataIntegrityProof with cryptosuite eddsa-jcs-2022"
            )
        created = proof_options.get("created")
        if created is not None and (
            not isinstance(created, str) or not DATE_TIME_STAMP.match(created)
        ):
            raise ProofVerificationError("proof.created must be an XML Schema dateTimeStamp")
        if self.jsonld is not None and "@context" in unsecured:
            self.jsonld.check({**proof_options, "@context": unsecured["@context"]})
        return jcs(proof_options)

    def hash(self, transformed: bytes, config: bytes) -> bytes:
        """§3.3.4 Hashing: SHA-256(config) ‖ SHA-256(transformed) -- config first, 64 bytes."""
        return hashlib.sha256(config).digest() + hashlib.sha256(transformed).digest()

    def proof_options(self, options: Json, unsecured: Json) -> Json:
        """§3.3.1 step 2: the options with the document's ``@context`` added when the document
        has one and the options do not."""
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
