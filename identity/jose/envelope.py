"""Enveloped credentials and presentations (VC DM 2.0 §4.13, VC-JOSE-COSE §3).

An envelope is a small JSON-LD object whose ``id`` is a ``data:`` URL (RFC 2397) holding a
secured document::

    {"@context": "https://www.w3.org/ns/credentials/v2",
     "type": "EnvelopedVerifiableCredential",
     "id": "data:application/vc+jwt,eyJ…"}

:func:`parse_envelope` checks the object and its ``data:`` URL and returns the token
(compact JWS text, or COSE_Sign1 bytes) with its media type, or raises
:class:`MalformedEnvelopeError`; :func:`make_envelope` is the inverse. Nothing here
verifies a signature: :mod:`identity.jose.vcjose` does that.

Media types (VC-JOSE-COSE §6.1, and one legacy profile):

* ``application/vc+jwt`` / ``application/vp+jwt`` -- compact JWS whose payload *is* the
  credential / presentation (§3.1.1, §3.1.2); the JWT claims ``vc`` and ``vp`` MUST NOT
  be present (§3.1.3).
* ``application/vc+cose`` / ``application/vp+cose`` -- COSE_Sign1 whose payload is the
  document (§3.3.1, §3.3.2), base64 in the ``data:`` URL (§3.3.1: "MUST be encoded
  using base64 as specified in RFC 2397").
* ``application/jwt`` -- verified only: the VC DM 1.1 §6.3.1 JWT encoding, where the
  document sits in a ``vc`` / ``vp`` claim. The W3C VC 2.0 suite's enveloped-presentation
  fixture is such a JWT, as are many wallets' presentations.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from identity.credentials.model import V2_CONTEXT
from identity.errors import PROBLEMS, ParsingError, TokenTooLargeError

Json = dict[str, Any]

VC_JWT = "application/vc+jwt"
VP_JWT = "application/vp+jwt"
VC_COSE = "application/vc+cose"
VP_COSE = "application/vp+cose"
LEGACY_JWT = "application/jwt"

ENVELOPED_VC = "EnvelopedVerifiableCredential"
ENVELOPED_VP = "EnvelopedVerifiablePresentation"

CREDENTIAL_MEDIA_TYPES = frozenset({VC_JWT, VC_COSE, LEGACY_JWT})
PRESENTATION_MEDIA_TYPES = frozenset({VP_JWT, VP_COSE, LEGACY_JWT})
ISSUED_MEDIA_TYPES = (VC_JWT, VC_COSE)
"""What this service issues (``options.envelope``)."""

DEFAULT_MAX_TOKEN_BYTES = 64 * 1024
"""A secured credential larger than this is refused before any decoding."""


class MalformedEnvelopeError(ParsingError):
    """The envelope, its ``data:`` URL or the token in it is not well formed (400)."""

    type_uri = PROBLEMS + "malformed-envelope"
    title = "Malformed enveloped credential or presentation"


@dataclass(frozen=True, slots=True)
class Envelope:
    """A checked envelope: what it wraps (``kind`` is ``vc`` or ``vp``), the media type
    of its ``data:`` URL and the token (``str`` for JWS, ``bytes`` for COSE)."""

    kind: str
    media_type: str
    token: str | bytes

    @property
    def token_bytes(self) -> bytes:
        """The secured bytes exactly as handed out: what issuance anchors."""
        return self.token if isinstance(self.token, bytes) else self.token.encode("ascii")


def is_enveloped(document: Any, kind: str = "vc") -> bool:
    """Whether ``document`` claims to be an envelope of ``kind`` (``vc`` / ``vp``): its
    ``type`` names the enveloped type, or its ``id`` is a ``data:`` URL with no
    credential claims beside it. Such a document is then checked as an envelope (and
    refused as one), never as a Data Integrity credential."""
    if not isinstance(document, dict):
        return False
    wanted = ENVELOPED_VC if kind == "vc" else ENVELOPED_VP
    types = document.get("type")
    listed = types if isinstance(types, list) else [types]
    if wanted in listed:
        return True
    data_id = isinstance(document.get("id"), str) and document["id"].startswith("data:")
    claims = ("credentialSubject", "issuer", "proof", "holder", "verifiableCredential")
    return data_id and "type" not in document and not any(k in document for k in claims)


def _check_context(document: Json) -> None:
    """§4.13.1/§4.13.2: ``@context`` present, first the base context (which defines
    ``EnvelopedVerifiableCredential`` / ``…Presentation``)."""
    context = document.get("@context")
    listed = context if isinstance(context, list) else [context]
    if not listed or listed[0] != V2_CONTEXT:
        raise MalformedEnvelopeError(
            f"an envelope's @context must be (or start with) {V2_CONTEXT}", field="@context"
        )


def parse_envelope(
    document: Any, kind: str = "vc", *, max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES
) -> Envelope:
    """Check an ``EnvelopedVerifiableCredential`` (``kind="vc"``) or
    ``EnvelopedVerifiablePresentation`` (``kind="vp"``) object; return its token."""
    if not isinstance(document, dict):
        raise MalformedEnvelopeError("an envelope must be a JSON object")
    wanted = ENVELOPED_VC if kind == "vc" else ENVELOPED_VP
    _check_context(document)
    types = document.get("type")
    listed = types if isinstance(types, list) else [types]
    if wanted not in listed:
        raise MalformedEnvelopeError(f"an envelope's type must be {wanted}", field="type")
    for claim in ("proof", "credentialSubject", "verifiableCredential"):
        if claim in document:
            raise MalformedEnvelopeError(
                f"an envelope carries its document in its id, not {claim}", field=claim
            )
    media_type, data = parse_data_url(document.get("id"), max_token_bytes)
    allowed = CREDENTIAL_MEDIA_TYPES if kind == "vc" else PRESENTATION_MEDIA_TYPES
    if media_type not in allowed:
        raise MalformedEnvelopeError(
            f"media type {media_type!r} is not one of {', '.join(sorted(allowed))}",
            field="id",
            mediaType=media_type[:100],
        )
    if media_type.endswith("+cose"):
        return Envelope(kind, media_type, data)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedEnvelopeError("a JWT is ASCII text", field="id") from None
    return Envelope(kind, media_type, text)


_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def percent_decode(text: str) -> bytes:
    """RFC 3986 §2.1 percent-decoding of a URL's data part (RFC 2397 §3); a ``%`` not
    followed by two hex digits is kept as is, as browsers do."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise MalformedEnvelopeError("a data: URL is ASCII text", field="id") from None
    return _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def parse_data_url(value: Any, max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> tuple[str, bytes]:
    """RFC 2397 ``data:[<mediatype>][;base64],<data>`` -> (media type, bytes).

    Only the media type's parameters ``;base64`` is understood; the data part is
    percent-decoded (RFC 2397 §3) unless base64. The size limit applies to the URL text
    itself, before anything is decoded."""
    if not isinstance(value, str) or not value.startswith("data:"):
        raise MalformedEnvelopeError("an envelope's id must be a data: URL", field="id")
    if len(value) > max_token_bytes + 256:
        raise TokenTooLargeError(
            f"the secured token exceeds {max_token_bytes} bytes",
            field="id",
            size=len(value),
            limit=max_token_bytes,
        )
    header, comma, payload = value[5:].partition(",")
    if not comma:
        raise MalformedEnvelopeError("a data: URL has a comma before its data", field="id")
    media_type, *params = header.split(";")
    media_type = media_type.strip().lower()
    is_base64 = bool(params) and params[-1].strip().lower() == "base64"
    if not payload:
        raise MalformedEnvelopeError("the data: URL holds no token", field="id")
    if is_base64:
        try:
            data = base64.b64decode(percent_decode(payload), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedEnvelopeError("the data: URL is not valid base64", field="id") from None
    else:
        data = percent_decode(payload)
    if len(data) > max_token_bytes:
        raise TokenTooLargeError(
            f"the secured token exceeds {max_token_bytes} bytes",
            field="id",
            size=len(data),
            limit=max_token_bytes,
        )
    return media_type, data


def make_envelope(media_type: str, token: str | bytes) -> Json:
    """The envelope object for ``token`` (VC DM 2.0 §4.13.1 / §4.13.2): JWS text as is
    (its alphabet needs no escaping), COSE bytes base64 (VC-JOSE-COSE §3.3.1)."""
    kind = ENVELOPED_VP if media_type.startswith("application/vp") else ENVELOPED_VC
    if isinstance(token, bytes):
        data = f"data:{media_type};base64,{base64.b64encode(token).decode('ascii')}"
    else:
        data = f"data:{media_type},{token}"
    return {"@context": V2_CONTEXT, "id": data, "type": kind}
