"""The one error tree of the identity core.

Every failure the core can report is an :class:`IdentityError` subclass with a stable
problem ``type`` URL (RFC 9457 §3.1.1) and a short ``title``; an instance carries the
``detail`` sentence and any structured data as keyword fields. No HTTP status lives here:
``service/problems.py`` maps each class to one.

::

    IdentityError
    ├── InputError                      the request itself is malformed
    │   ├── ParsingError             not JSON / not I-JSON / too deep  (VC DM PARSING_ERROR)
    │   ├── MalformedValueError      a field has the wrong shape       (VC DM MALFORMED_VALUE_ERROR)
    │   ├── RangeError               a value is outside its range      (VC DM RANGE_ERROR)
    │   ├── InvalidDidError             not a DID this service can handle
    │   ├── DataLossError            JSON-LD would drop data           (VC-DI DATA_LOSS_DETECTION)
    │   ├── SchemaViolationError        credentialSubject fails its JSON Schema
    │   ├── UnsupportedMediaTypeError   a body not declared as JSON
    │   └── ContextNotAllowedError      a JSON-LD context that is not bundled
    ├── VerificationError               a credential or proof does not verify
    │   ├── ProofVerificationError   bad signature / proof    (VC-DI PROOF_VERIFICATION_ERROR)
    │   ├── MalformedProofError      proof has the wrong shape (VC-DI MALFORMED_PROOF_ERROR)
    │   ├── InvalidVerificationMethodError                     (CID INVALID_VERIFICATION_METHOD)
    │   ├── ValidityPeriodError      not yet valid / expired  (VC DM RANGE_ERROR)
    │   ├── InvalidChallengeError / InvalidDomainError                      (VC-DI)
    │   ├── StatusError family          Bitstring Status List errors
    │   ├── LogProofError               an inclusion/consistency proof fails
    │   └── InvalidConsentError         a consent receipt that does not fit its request
    ├── AuthError
    │   ├── AuthenticationError         no or wrong credentials
    │   └── PermissionDeniedError       authenticated, not allowed
    ├── NotFoundError                   the named thing does not exist
    ├── ConflictError                   the write conflicts with existing state
    │   └── SharingStateError           not allowed where a sharing request stands
    ├── LogIntegrityError               the log's store is not the log we sign
    ├── DidResolutionError              a DID's document could not be obtained usably
    │   └── InvalidDidDocumentError     what was obtained is not a DID document for it
    └── UnavailableError                a backend is down; retry later
"""

from __future__ import annotations

from typing import Any, ClassVar

VC_DM = "https://www.w3.org/TR/vc-data-model#"
VC_DI = "https://w3id.org/security#"
STATUS = "https://www.w3.org/ns/credentials/status-list#"
PROBLEMS = "https://identity-service.example/problems/"


class IdentityError(Exception):
    """Base of every error the core raises on purpose.

    ``detail`` is a human sentence safe to show a client; ``data`` holds structured
    fields (never secrets) that are copied into the problem document.
    """

    type_uri: ClassVar[str] = PROBLEMS + "error"
    title: ClassVar[str] = "Identity service error"

    def __init__(self, detail: str, **data: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.data = data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"


# -- input ----------------------------------------------------------------------------


class InputError(IdentityError):
    type_uri = PROBLEMS + "bad-input"
    title = "Bad input"


class ParsingError(InputError):
    type_uri = VC_DM + "PARSING_ERROR"
    title = "Parsing error"


class MalformedValueError(InputError):
    type_uri = VC_DM + "MALFORMED_VALUE_ERROR"
    title = "Malformed value"


class RangeError(InputError):
    type_uri = VC_DM + "RANGE_ERROR"
    title = "Value out of range"


class InvalidDidError(InputError):
    type_uri = PROBLEMS + "invalid-did"
    title = "Invalid DID"


class DataLossError(InputError):
    type_uri = VC_DI + "DATA_LOSS_DETECTION_ERROR"
    title = "JSON-LD data loss detected"


class SchemaViolationError(InputError):
    type_uri = PROBLEMS + "schema-violation"
    title = "Credential subject does not fit its schema"


class ContextNotAllowedError(InputError):
    type_uri = PROBLEMS + "context-not-allowed"
    title = "JSON-LD context not available offline"


class PayloadTooLargeError(InputError):
    type_uri = PROBLEMS + "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaTypeError(InputError):
    """A body whose declared media type is not JSON (``application/json`` or
    ``application/*+json``, RFC 6839 §3.1); ``media_type`` is what was declared."""

    type_uri = PROBLEMS + "unsupported-media-type"
    title = "Unsupported media type"


# -- verification -----------------------------------------------------------------------


class VerificationError(IdentityError):
    type_uri = VC_DI + "PROOF_VERIFICATION_ERROR"
    title = "Verification failed"


class ProofVerificationError(VerificationError):
    type_uri = VC_DI + "PROOF_VERIFICATION_ERROR"
    title = "Proof verification failed"


class MalformedProofError(VerificationError):
    type_uri = VC_DI + "MALFORMED_PROOF_ERROR"
    title = "Malformed proof"


class ProofGenerationError(IdentityError):
    type_uri = VC_DI + "PROOF_GENERATION_ERROR"
    title = "Proof generation failed"


class InvalidVerificationMethodError(VerificationError):
    type_uri = VC_DI + "INVALID_VERIFICATION_METHOD"
    title = "Invalid verification method"


class ValidityPeriodError(VerificationError):
    type_uri = VC_DM + "RANGE_ERROR"
    title = "Outside the credential's validity period"


class InvalidChallengeError(VerificationError):
    type_uri = VC_DI + "INVALID_CHALLENGE_ERROR"
    title = "Invalid challenge"


class InvalidDomainError(VerificationError):
    type_uri = VC_DI + "INVALID_DOMAIN_ERROR"
    title = "Invalid domain"


class StatusRetrievalError(VerificationError):
    type_uri = STATUS + "STATUS_RETRIEVAL_ERROR"
    title = "Status list could not be retrieved"


class StatusVerificationError(VerificationError):
    type_uri = STATUS + "STATUS_VERIFICATION_ERROR"
    title = "Status list could not be verified"


class StatusListLengthError(VerificationError):
    type_uri = STATUS + "STATUS_LIST_LENGTH_ERROR"
    title = "Status list too short"


class CredentialStatusError(VerificationError):
    type_uri = PROBLEMS + "credential-status"
    title = "Credential revoked or suspended"


class LogProofError(VerificationError):
    type_uri = PROBLEMS + "log-proof"
    title = "Log proof does not verify"


# -- authorization ----------------------------------------------------------------------


class AuthError(IdentityError):
    type_uri = PROBLEMS + "unauthorized"
    title = "Unauthorized"


class AuthenticationError(AuthError):
    type_uri = PROBLEMS + "unauthenticated"
    title = "Authentication required"


class PermissionDeniedError(AuthError):
    type_uri = PROBLEMS + "forbidden"
    title = "Not allowed"


# -- state ------------------------------------------------------------------------------


class NotFoundError(IdentityError):
    type_uri = PROBLEMS + "not-found"
    title = "Not found"


class ConflictError(IdentityError):
    type_uri = PROBLEMS + "conflict"
    title = "Conflict"


class LogIntegrityError(IdentityError):
    """The stored log is not consistent with what this log has signed (a fork, or another log)."""

    type_uri = PROBLEMS + "log-integrity"
    title = "Log integrity violated"


class DidResolutionError(IdentityError):
    """The document of a DID could not be obtained in a usable form from where its
    method keeps it (did:web: a redirect, a refused status, an oversized answer). An
    upstream failure, not the caller's: not an input error."""

    type_uri = PROBLEMS + "did-resolution"
    title = "DID could not be resolved"


class InvalidDidDocumentError(DidResolutionError):
    """What was obtained for a DID is not its DID document: not I-JSON, not an object,
    an ``id`` other than the DID (DID Core §5.1.1), or members of the wrong shape."""

    type_uri = PROBLEMS + "invalid-did-document"
    title = "Invalid DID document"


class UnavailableError(IdentityError):
    """A backend is unreachable or too slow; ``retry_after`` seconds is a hint."""

    type_uri = PROBLEMS + "unavailable"
    title = "Service unavailable"


# -- JSON-LD processing (added with RDFC-1.0 canonicalization) -------------------------


class InvalidJsonLdError(MalformedValueError):
    """The JSON-LD processor rejected the document or a context; ``code`` carries the
    JSON-LD 1.1 API error code (e.g. ``invalid local context``)."""

    type_uri = PROBLEMS + "invalid-json-ld"
    title = "Invalid JSON-LD"


class ProtectedTermRedefinitionError(InvalidJsonLdError):
    """A context tried to redefine a ``@protected`` term (JSON-LD 1.1 §4.1.11)."""

    type_uri = PROBLEMS + "protected-term-redefinition"
    title = "Protected JSON-LD term redefined"


class CanonicalizationLimitError(InputError):
    """RDFC-1.0 would need more work than allowed (a blank-node poisoning graph, RDFC-1.0 §4.4)."""

    type_uri = PROBLEMS + "canonicalization-limit"
    title = "Document too costly to canonicalize"


class RelatedResourceError(VerificationError):
    """A ``relatedResource`` digest does not match the resource (VC DM 2.0 §5.3)."""

    type_uri = PROBLEMS + "related-resource"
    title = "Related resource digest mismatch"


# -- the directory chain: consent and data-sharing requests ------------------------------


class InvalidConsentError(VerificationError):
    """A consent receipt that does not verify or does not fit the request: another
    signer than the citizen concerned, another request, expired, or malformed."""

    type_uri = PROBLEMS + "invalid-consent"
    title = "Invalid consent receipt"


class SharingStateError(ConflictError):
    """The act is not allowed where the request stands: e.g. an access after the
    citizen withdrew consent, an approval without consent, a consent given twice."""

    type_uri = PROBLEMS + "sharing-state"
    title = "Not allowed in the request's current state"


# -- credentials as QR codes ---------------------------------------------------------------


class QrCapacityError(RangeError):
    """The credential does not fit in one QR code; ``compressedBytes`` and ``limit`` say
    by how much (identity/credentials/qrcode.py)."""

    type_uri = PROBLEMS + "qr-capacity"
    title = "Credential too large for a QR code"


# -- JOSE (compact JWS) and SD-JWT (RFC 9901) ----------------------------------------------


class TokenParsingError(ParsingError):
    """A compact JWS / SD-JWT that cannot be parsed: not three base64url parts, a header
    or payload that is not a JSON object, a disclosure that is not a JSON array."""

    type_uri = PROBLEMS + "token-parsing"
    title = "Token cannot be parsed"


class TokenTooLargeError(ParsingError):
    """A token longer than the service accepts; ``size`` and ``limit`` in bytes."""

    type_uri = PROBLEMS + "token-too-large"
    title = "Token too large"


class UnsupportedAlgorithmError(MalformedProofError):
    """A JWS ``alg`` refused: ``none`` (RFC 8725 §3.2), unknown, or not one the key
    verifies (``alg``; ``allowed`` lists what would be)."""

    type_uri = PROBLEMS + "unsupported-algorithm"
    title = "Signature algorithm not accepted"


class UnknownCriticalHeaderError(MalformedProofError):
    """A JWS ``crit`` naming an extension this service does not understand (RFC 7515 §4.1.11)."""

    type_uri = PROBLEMS + "unknown-critical-header"
    title = "Critical header not understood"


class TokenTypeError(MalformedProofError):
    """A JWT whose ``typ`` header is not the one its use requires (RFC 8725 §3.11)."""

    type_uri = PROBLEMS + "wrong-token-type"
    title = "Wrong token type"


class DisclosureError(VerificationError):
    """An SD-JWT disclosure that RFC 9901 §7.1 says to reject."""

    type_uri = PROBLEMS + "sd-jwt-disclosure"
    title = "Invalid disclosure"


class UnreferencedDisclosureError(DisclosureError):
    """A disclosure whose digest appears nowhere in the payload (RFC 9901 §7.1 step 5)."""

    type_uri = PROBLEMS + "sd-jwt-unreferenced-disclosure"
    title = "Disclosure not referenced by the issuer-signed JWT"


class RepeatedDisclosureError(DisclosureError):
    """The same disclosure (or digest) presented, or referenced, twice (RFC 9901 §7.1 step 4)."""

    type_uri = PROBLEMS + "sd-jwt-repeated-disclosure"
    title = "Disclosure repeated"


class AlwaysDisclosedClaimError(DisclosureError):
    """A disclosure for a claim the credential type marks as always disclosed."""

    type_uri = PROBLEMS + "sd-jwt-always-disclosed-claim"
    title = "Claim may not be selectively disclosed"


class ForbiddenSdClaimError(DisclosureError):
    """``_sd`` or ``...`` where RFC 9901 forbids it (a disclosure naming them, a
    disclosed claim already present, an ``_sd`` that is not an array of digests)."""

    type_uri = PROBLEMS + "sd-jwt-forbidden-claim"
    title = "Reserved SD-JWT claim name misused"


class KeyBindingError(VerificationError):
    """A Key Binding JWT missing where required, stale, for another nonce or audience,
    or signed by another key than the ``cnf`` one (RFC 9901 §7.3)."""

    type_uri = PROBLEMS + "sd-jwt-key-binding"
    title = "Key binding does not verify"


class SdHashMismatchError(KeyBindingError):
    """A KB-JWT whose ``sd_hash`` is not the digest of the presentation (RFC 9901 §4.3.1)."""

    type_uri = PROBLEMS + "sd-jwt-sd-hash"
    title = "Key binding sd_hash mismatch"
