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
    ├── SealedKeyError                  a key at rest does not open with the master secret
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
    """The request itself is wrong: retrying it unchanged fails again. Base of every
    caller's-fault error; 422 unless a subclass is mapped otherwise (service/problems.py)."""

    type_uri = PROBLEMS + "bad-input"
    title = "Bad input"


class ParsingError(InputError):
    """The body or token is not a JSON document of the expected kind: not JSON, not I-JSON (RFC
    7493: a duplicate member, a non-finite number, an integer beyond ±(2**53-1)), nested too
    deep, or missing what makes it a credential at all (VC DM PARSING_ERROR).
    ``field`` names the member when there is one."""

    type_uri = VC_DM + "PARSING_ERROR"
    title = "Parsing error"


class MalformedValueError(InputError):
    """A value of the wrong type or shape for its field (VC DM MALFORMED_VALUE_ERROR);
    ``field`` names it when known. The JSON parsed; its content did not."""

    type_uri = VC_DM + "MALFORMED_VALUE_ERROR"
    title = "Malformed value"


class RangeError(InputError):
    """A value of the right type outside its allowed range: a negative size, an index beyond a
    list, a limit exceeded (VC DM RANGE_ERROR)."""

    type_uri = VC_DM + "RANGE_ERROR"
    title = "Value out of range"


class InvalidDidError(InputError):
    """A string that is not a DID (DID Core §3.1 syntax) or names a method or DID this service
    does not handle; ``did`` is its head (at most 200 characters). Unlike
    :class:`DidResolutionError` this is the caller's fault, found without any I/O."""

    type_uri = PROBLEMS + "invalid-did"
    title = "Invalid DID"


class DataLossError(InputError):
    """JSON-LD expansion would silently drop a term or IRI the document uses (an undefined term,
    a relative IRI), so what is signed would not be what is shown (VC-DI
    DATA_LOSS_DETECTION_ERROR); ``iri`` names a dropped IRI."""

    type_uri = VC_DI + "DATA_LOSS_DETECTION_ERROR"
    title = "JSON-LD data loss detected"


class SchemaViolationError(InputError):
    """A ``credentialSubject`` that fails its credential type's JSON Schema; ``path`` is the JSON
    path of the first failure and ``credentialType`` the type's name."""

    type_uri = PROBLEMS + "schema-violation"
    title = "Credential subject does not fit its schema"


class ContextNotAllowedError(InputError):
    """A JSON-LD ``@context`` URL that is not bundled with the service: nothing is fetched at run
    time, so the document cannot be processed (``url``, cut to 200)."""

    type_uri = PROBLEMS + "context-not-allowed"
    title = "JSON-LD context not available offline"


class PayloadTooLargeError(InputError):
    """A request body over the service's byte limit (``limit``); raised while reading, before the
    body is parsed, so nothing of it is processed (413)."""

    type_uri = PROBLEMS + "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaTypeError(InputError):
    """A body whose declared media type is not JSON (``application/json`` or
    ``application/*+json``, RFC 6839 §3.1); ``media_type`` is what was declared."""

    type_uri = PROBLEMS + "unsupported-media-type"
    title = "Unsupported media type"


# -- verification -----------------------------------------------------------------------


class VerificationError(IdentityError):
    """A credential, presentation, proof or log proof that was well formed but does not verify.
    Base of every verification failure; a verifier raises rather than reports a negative
    result (guide rule 4)."""

    type_uri = VC_DI + "PROOF_VERIFICATION_ERROR"
    title = "Verification failed"


class ProofVerificationError(VerificationError):
    """A Data Integrity proof whose signature, hash or proof options do not verify against the
    document (VC-DI PROOF_VERIFICATION_ERROR)."""

    type_uri = VC_DI + "PROOF_VERIFICATION_ERROR"
    title = "Proof verification failed"


class MalformedProofError(VerificationError):
    """A proof missing a required member or with one of the wrong type, before any cryptography
    (VC-DI MALFORMED_PROOF_ERROR)."""

    type_uri = VC_DI + "MALFORMED_PROOF_ERROR"
    title = "Malformed proof"


class ProofGenerationError(IdentityError):
    """Signing failed because the unsecured document or the proof options cannot be secured (e.g.
    JSON-LD data loss, a bad ``created``): the issuer's input is wrong, not the key (VC-DI
    PROOF_GENERATION_ERROR). Carries the data of the error it wraps."""

    type_uri = VC_DI + "PROOF_GENERATION_ERROR"
    title = "Proof generation failed"


class InvalidVerificationMethodError(VerificationError):
    """The ``verificationMethod`` cannot be used for this proof: not found in the controller's
    DID document, not authorized for the proof purpose, a deactivated DID, or a key of the
    wrong type (CID INVALID_VERIFICATION_METHOD)."""

    type_uri = VC_DI + "INVALID_VERIFICATION_METHOD"
    title = "Invalid verification method"


class ValidityPeriodError(VerificationError):
    """The credential or token is outside its validity period at verification time
    (``validFrom``/``validUntil``, JWT ``nbf``/``exp``) or its dates are unusable (VC DM 2.0
    §4.9, reported as RANGE_ERROR)."""

    type_uri = VC_DM + "RANGE_ERROR"
    title = "Outside the credential's validity period"


class InvalidChallengeError(VerificationError):
    """A presentation proof's ``challenge`` (or a JWT ``nonce``) other than the one expected, or
    a challenge unknown or already used (VC-DI INVALID_CHALLENGE_ERROR)."""

    type_uri = VC_DI + "INVALID_CHALLENGE_ERROR"
    title = "Invalid challenge"


class InvalidDomainError(VerificationError):
    """A presentation proof's ``domain`` (or a JWT ``aud``) that does not name the expected
    verifier (VC-DI INVALID_DOMAIN_ERROR)."""

    type_uri = VC_DI + "INVALID_DOMAIN_ERROR"
    title = "Invalid domain"


class StatusRetrievalError(VerificationError):
    """The status list credential a ``credentialStatus`` points to could not be obtained or used
    (``url``): unknown here, unreachable, or not a status list (Bitstring Status List
    STATUS_RETRIEVAL_ERROR)."""

    type_uri = STATUS + "STATUS_RETRIEVAL_ERROR"
    title = "Status list could not be retrieved"


class StatusVerificationError(VerificationError):
    """The status list was obtained but does not verify or cannot be decoded: bad proof, wrong
    purpose, not GZIP/ZLIB data, too large when inflated (Bitstring Status List
    STATUS_VERIFICATION_ERROR)."""

    type_uri = STATUS + "STATUS_VERIFICATION_ERROR"
    title = "Status list could not be verified"


class StatusListLengthError(VerificationError):
    """A status index outside the list, or a list shorter than the 131,072-entry minimum that
    protects holders' privacy (Bitstring Status List STATUS_LIST_LENGTH_ERROR);
    ``index`` when an index is at fault."""

    type_uri = STATUS + "STATUS_LIST_LENGTH_ERROR"
    title = "Status list too short"


class CredentialStatusError(VerificationError):
    """The credential's status list says it is revoked or suspended; ``statusPurpose`` (or
    ``tokenStatus`` for a Token Status List) names which."""

    type_uri = PROBLEMS + "credential-status"
    title = "Credential revoked or suspended"


class LogProofError(VerificationError):
    """A Merkle inclusion or consistency proof (RFC 9162 §2.1.3-2.1.4) that does not verify, or
    names an index or size outside the tree (``index``, ``tree_size``)."""

    type_uri = PROBLEMS + "log-proof"
    title = "Log proof does not verify"


# -- authorization ----------------------------------------------------------------------


class AuthError(IdentityError):
    """The caller may not do this. Base of the authentication and authorization errors; raised by
    service/auth.py and by core checks of who may act."""

    type_uri = PROBLEMS + "unauthorized"
    title = "Unauthorized"


class AuthenticationError(AuthError):
    """No credential, or one that does not verify (wrong, expired, revoked API key or token);
    ``reason`` is ``missing`` or ``invalid`` and decides the 401's WWW-Authenticate."""

    type_uri = PROBLEMS + "unauthenticated"
    title = "Authentication required"


class PermissionDeniedError(AuthError):
    """The caller is known but its role or accreditation does not allow the act (e.g. an issuer
    not accredited for the credential type, a delegation beyond one level)."""

    type_uri = PROBLEMS + "forbidden"
    title = "Not allowed"


# -- state ------------------------------------------------------------------------------


class NotFoundError(IdentityError):
    """The named thing (issuer, credential, DID, log entry, checkpoint, request) does not exist
    here; any identifying fields are in ``data``."""

    type_uri = PROBLEMS + "not-found"
    title = "Not found"


class ConflictError(IdentityError):
    """The write contradicts existing state: an id already taken, a DID deactivated, a checkpoint
    that moved meanwhile. Nothing was written; retrying unchanged fails again."""

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


class SealedKeyError(IdentityError):
    """A key sealed at rest does not open with the configured master secret: the store was
    written under another secret (a restored backup, a changed ``IDENTITY_MASTER_SECRET``)
    or the sealed bytes were altered. The service's state, not the caller's input: nothing
    is signed until the operator restores the matching secret."""

    type_uri = PROBLEMS + "sealed-key"
    title = "Sealed key does not open"
