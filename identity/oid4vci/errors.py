"""OAuth-style errors of the OID4VCI endpoints: each carries the ``error`` code the
specification defines, and the service renders ``{"error", "error_description"}``."""

from __future__ import annotations

from typing import Any, ClassVar

from identity.errors import PROBLEMS, IdentityError


class Oid4vciError(IdentityError):
    """An OAuth 2.0 error response (RFC 6749 §5.2): ``error`` is the registered code,
    ``detail`` the ``error_description`` (never a secret)."""

    type_uri: ClassVar[str] = PROBLEMS + "oauth-error"
    title: ClassVar[str] = "OAuth error"
    error: ClassVar[str] = "invalid_request"
    #: HTTP status: 400 for every error of RFC 6749 §5.2 and OID4VCI §8.3.1.2
    status: ClassVar[int] = 400

    def __init__(self, detail: str, **data: Any) -> None:
        super().__init__(detail, **data)


class InvalidRequest(Oid4vciError):
    """RFC 6749 §5.2 ``invalid_request``; also a Transaction Code sent when none is
    expected, or missing when one is (OID4VCI §6.3)."""

    error = "invalid_request"


class InvalidClient(Oid4vciError):
    """RFC 6749 §5.2 ``invalid_client`` (the client authentication failed)."""

    error = "invalid_client"
    status = 401


class InvalidGrant(Oid4vciError):
    """RFC 6749 §5.2 ``invalid_grant``: an unknown, used, expired or locked
    pre-authorized code, a wrong Transaction Code (OID4VCI §6.3), a bad PKCE verifier."""

    error = "invalid_grant"


class UnsupportedGrantType(Oid4vciError):
    """RFC 6749 §5.2 ``unsupported_grant_type``."""

    error = "unsupported_grant_type"


class InvalidToken(Oid4vciError):
    """RFC 6750 §3.1 ``invalid_token``: the access token is unknown or expired (401)."""

    error = "invalid_token"
    status = 401


class InvalidCredentialRequest(Oid4vciError):
    """OID4VCI §8.3.1.2 ``invalid_credential_request``: malformed Credential Request."""

    error = "invalid_credential_request"


class UnknownCredentialConfiguration(Oid4vciError):
    """OID4VCI §8.3.1.2 ``unknown_credential_configuration``: the requested
    configuration is unknown -- here, or not one of those the access token's offer names."""

    error = "unknown_credential_configuration"


class UnknownCredentialIdentifier(Oid4vciError):
    """OID4VCI §8.3.1.2 ``unknown_credential_identifier``."""

    error = "unknown_credential_identifier"


class InvalidProof(Oid4vciError):
    """OID4VCI §8.3.1.2 ``invalid_proof``: the proof is missing or does not verify."""

    error = "invalid_proof"


class InvalidNonce(Oid4vciError):
    """OID4VCI §8.3.1.2 ``invalid_nonce``: the proof's ``nonce`` was never issued here,
    was used, or expired; the wallet fetches a fresh one from the Nonce Endpoint."""

    error = "invalid_nonce"


class CredentialRequestDenied(Oid4vciError):
    """OID4VCI §8.3.1.2 ``credential_request_denied``: the request will not be honoured
    (the credential of this configuration was already issued for this offer)."""

    error = "credential_request_denied"


class InvalidTransactionId(Oid4vciError):
    """OID4VCI §9.3 ``invalid_transaction_id``: unknown, or already answered."""

    error = "invalid_transaction_id"


class InvalidNotificationId(Oid4vciError):
    """OID4VCI §11.3 ``invalid_notification_id``."""

    error = "invalid_notification_id"


class InvalidNotificationRequest(Oid4vciError):
    """OID4VCI §11.3 ``invalid_notification_request``."""

    error = "invalid_notification_request"


class UnsupportedResponseType(Oid4vciError):
    """RFC 6749 §4.1.2.1 ``unsupported_response_type``: only ``code`` is served."""

    error = "unsupported_response_type"


class InvalidScope(Oid4vciError):
    """RFC 6749 §4.1.2.1 ``invalid_scope``: a scope names no configuration of the offer."""

    error = "invalid_scope"


class InvalidAuthorizationDetails(Oid4vciError):
    """RFC 9396 §5 ``invalid_authorization_details``: not ``openid_credential`` objects
    naming configurations of the offer (OID4VCI §5.1.1)."""

    error = "invalid_authorization_details"


class InvalidTarget(Oid4vciError):
    """RFC 8707 §2 ``invalid_target``: ``resource`` is not this Credential Issuer."""

    error = "invalid_target"


class AccessDenied(Oid4vciError):
    """RFC 6749 §4.1.2.1 ``access_denied``: the DID that signed in is not the citizen
    the offer was made for."""

    error = "access_denied"
    status = 403
