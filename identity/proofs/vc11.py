"""Securing VC Data Model 1.1 credentials with Data Integrity.

The VC 1.1 context (``https://www.w3.org/2018/credentials/v1``) does not define the
Data Integrity terms (``DataIntegrityProof``, ``cryptosuite``, …), so RDFC-1.0 would
find them undefined. VC Data Integrity 1.0 ("Contexts and Vocabularies") and EdDSA
Cryptosuites v1.0 ("Representation" of 1.1 credentials) therefore add
``https://w3id.org/security/data-integrity/v2`` to such a document's ``@context``
before it is signed; the signed document keeps it, so the verifier sees the same one.
"""

from __future__ import annotations

from typing import Any

from identity.jsonld import CREDENTIALS_V1, DATA_INTEGRITY_V2

Json = dict[str, Any]


def with_data_integrity_context(credential: Json) -> Json:
    """Return ``credential`` with the Data Integrity context appended when it is a VC 1.1
    credential that lacks it; any other document is returned unchanged (not copied)."""
    context = credential.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if not contexts or contexts[0] != CREDENTIALS_V1 or DATA_INTEGRITY_V2 in contexts:
        return credential
    return {**credential, "@context": [*contexts, DATA_INTEGRITY_V2]}
