"""Which named check an SD-JWT VC refusal belongs to (docs/sd-jwt.md, "Verifying").

``POST /credentials/sd-jwt/verify`` answers 200 with ``results`` per check, or one
problem+json for the first refusal. The route names that check in the problem's ``check``
member (so the verifier page can mark it) and the metrics count it in
``identity_verification_failed_checks``; both read it here, from the error's class.
"""

from __future__ import annotations

from identity import errors as e

SD_JWT_CHECKS = (
    "wellFormed",
    "signature",
    "disclosures",
    "validity",
    "keyBinding",
    "status",
    "issuerTrust",
    "anchor",
)
"""The checks of an SD-JWT VC verification, in the order the verifier makes them (the
verifier page, ``service/web/static/js/verify.js``, lists them in this order too)."""

_BY_CLASS: tuple[tuple[type[e.IdentityError], str], ...] = (
    (e.UnavailableError, ""),  # the service, not the credential
    (e.TokenTypeError, "wellFormed"),
    (e.ParsingError, "wellFormed"),
    (e.InputError, "wellFormed"),
    (e.DisclosureError, "disclosures"),
    (e.KeyBindingError, "keyBinding"),
    (e.ValidityPeriodError, "validity"),
    (e.CredentialStatusError, "status"),
    (e.StatusRetrievalError, "status"),
    (e.StatusVerificationError, "status"),
    (e.StatusListLengthError, "status"),
    (e.LogProofError, "anchor"),
    (e.PermissionDeniedError, "issuerTrust"),  # options.requireAccreditedIssuer
    (e.VerificationError, "signature"),  # alg, crit, kid, the signature itself
)


def sd_jwt_failed_check(error: e.IdentityError) -> str | None:
    """The check of :data:`SD_JWT_CHECKS` that ``error`` failed, or ``None`` when it is
    no verdict on the credential (the store is down, the caller is rate limited)."""
    for cls, check in _BY_CLASS:
        if isinstance(error, cls):
            return check or None
    return None
