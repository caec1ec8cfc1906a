"""The SD-JWT serialization (RFC 9901 §4): ``<JWT>~<D1>~...~<Dn>~[<KB-JWT>]``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from identity.errors import TokenParsingError, TokenTooLargeError
from identity.jose.keys import b64url

#: bound on a whole presentation (issuer JWT + disclosures + KB-JWT), in characters
MAX_SD_JWT_SIZE = 32 * 1024
MAX_DISCLOSURES = 256


@dataclass(frozen=True, slots=True)
class SdJwtParts:
    """An SD-JWT split at its tildes; ``kb_jwt`` is None for an SD-JWT without key binding."""

    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None

    @property
    def without_kb(self) -> str:
        """The SD-JWT the KB-JWT's ``sd_hash`` covers: everything up to the last ``~``."""
        return "".join(f"{part}~" for part in (self.issuer_jwt, *self.disclosures))

    def serialize(self) -> str:
        """The compact form (with the KB-JWT, when there is one)."""
        return self.without_kb + (self.kb_jwt or "")


def split(token: object, *, max_size: int = MAX_SD_JWT_SIZE) -> SdJwtParts:
    """Split an SD-JWT or SD-JWT+KB; raise :class:`TokenTooLargeError` past ``max_size``
    and :class:`TokenParsingError` without the separators RFC 9901 §4 requires."""
    if not isinstance(token, str):
        raise TokenParsingError("an SD-JWT is a string")
    if len(token) > max_size:
        raise TokenTooLargeError(
            f"the SD-JWT is {len(token)} bytes; at most {max_size} are accepted",
            size=len(token),
            limit=max_size,
        )
    if "~" not in token:
        raise TokenParsingError("an SD-JWT has a '~' after the issuer-signed JWT")
    parts = token.split("~")
    if len(parts) - 2 > MAX_DISCLOSURES:
        raise TokenTooLargeError(f"more than {MAX_DISCLOSURES} disclosures", limit=MAX_DISCLOSURES)
    issuer_jwt, *disclosures, last = parts
    if not issuer_jwt or any(not d for d in disclosures):
        raise TokenParsingError("an SD-JWT has no empty part between its '~' separators")
    return SdJwtParts(issuer_jwt, tuple(disclosures), last or None)


def sd_hash(sd_jwt_without_kb: str) -> str:
    """The KB-JWT ``sd_hash``: base64url(SHA-256(ASCII(SD-JWT))) (RFC 9901 §4.3.1)."""
    return b64url(hashlib.sha256(sd_jwt_without_kb.encode("ascii")).digest())
