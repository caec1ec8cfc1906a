"""OpenID4VP errors: each carries the OAuth ``error`` code of OpenID4VP 1.0 §8.5 that the
response endpoint answers with; the verifier API reports them as problem+json."""

from __future__ import annotations

from typing import ClassVar

from identity.errors import PROBLEMS, ConflictError, InputError, NotFoundError, VerificationError


class Oid4vpError(InputError):
    """A refused OpenID4VP message; ``oauth_error`` is the §8.5 error code."""

    type_uri = PROBLEMS + "oid4vp-invalid-request"
    title = "Invalid OpenID4VP request or response"
    oauth_error: ClassVar[str] = "invalid_request"


class DcqlQueryError(Oid4vpError):
    """A DCQL query that breaks OpenID4VP §6."""

    type_uri = PROBLEMS + "oid4vp-invalid-dcql"
    title = "Invalid DCQL query"


class PresentationRequestNotFoundError(NotFoundError):
    """No presentation request with this id (or it is another verifier's)."""

    type_uri = PROBLEMS + "oid4vp-request-not-found"
    title = "Presentation request not found"
    oauth_error: ClassVar[str] = "invalid_request"


class PresentationRequestStateError(ConflictError):
    """The request is not in a state that allows this (used, answered, expired)."""

    type_uri = PROBLEMS + "oid4vp-request-state"
    title = "Presentation request already used or expired"
    oauth_error: ClassVar[str] = "invalid_request"


class PresentationMismatchError(VerificationError):
    """A vp_token that verified but does not answer the DCQL query, or did not verify."""

    type_uri = PROBLEMS + "oid4vp-presentation-rejected"
    title = "The presentation does not answer the request"
    oauth_error: ClassVar[str] = "invalid_request"
