"""Securing and verifying credentials and presentations with JOSE and COSE
(VC-JOSE-COSE, W3C Recommendation), enveloped as VC DM 2.0 §4.13 describes.

Issuing (:func:`secure_credential`): the unsecured credential, exactly as the issuance
flow prepared it (status entry, trust policy), is the payload -- its RFC 8785 JCS bytes
-- of a compact JWS (``typ: vc+jwt``, ``cty: vc``, §3.1.1) or a COSE_Sign1 (``typ``
``application/vc+cose``, content type ``application/vc``, §3.3.1), signed with the
agency's Ed25519 key; ``kid`` is its verification method (§4.1.1). What is handed out is
the envelope; what is anchored is the SHA-256 of the token bytes in it.

Verifying (:class:`EnvelopingVerifier`): an envelope runs the same named checks as a
Data Integrity credential, in the same order, with the same extra checks (related
resources, status, issuer trust), and the log anchor looked up by the token's digest:

``wellFormed``   envelope, ``data:`` URL, JWS/COSE structure, ``typ``/``cty``, the
                 payload as a VC DM 2.0 credential and as JSON-LD (§7 "Validation");
``proof``        ``alg`` allowed (never ``none``), ``crit`` understood, ``kid`` resolved
                 to an ``assertionMethod`` key, signature valid (§5.1);
``issuer``       the key's controller is ``issuer``, and so is ``iss`` if present (§4.1.2);
``validityPeriod`` ``validFrom``/``validUntil``, and JWT ``exp``/``nbf`` (the signature's);
then ``relatedResource``, ``status``, ``issuerTrust``, ``anchor``.

Anything else is passed to the Data Integrity :class:`Verifier` it extends, so one
verifier serves ``/credentials/verify`` and the credentials inside presentations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from identity.canonical import jcs, parse_json
from identity.clock import xsd_datetime
from identity.credentials.model import Credential, parse_credential
from identity.credentials.presentations import (
    PresentationNotVerified,
    VerifiedPresentation,
    parse_presentation,
    verify_embedded,
)
from identity.credentials.verifier import (
    CheckResult,
    CredentialNotVerified,
    Verified,
    VerifiedCredential,
    Verifier,
    _requested,
)
from identity.dids import DidResolver
from identity.errors import (
    IdentityError,
    InvalidChallengeError,
    InvalidDomainError,
    ProofVerificationError,
    TokenTypeError,
    UnsupportedAlgorithmError,
    ValidityPeriodError,
)
from identity.jose import cose, jws
from identity.jose.discovery import DiscoveredKey, discover
from identity.jose.envelope import (
    DEFAULT_MAX_TOKEN_BYTES,
    LEGACY_JWT,
    VC_COSE,
    VC_JWT,
    VP_COSE,
    VP_JWT,
    Envelope,
    MalformedEnvelopeError,
    is_enveloped,
    make_envelope,
    parse_envelope,
)
from identity.jose.jws import Jws
from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey
from identity.proofs import SuiteRegistry
from identity.proofs.eddsa_jcs import JsonLdCheck

Json = dict[str, Any]
AnchorLookup = Callable[[bytes], dict[str, Any] | None]
"""``results.anchor`` for a token digest, ``None`` when this log never anchored it."""

# typ / cty values a token may carry (RFC 7515 §4.1.9: "application/" may be omitted).
_TYP = {
    VC_JWT: ("vc+jwt", "vc"),
    VP_JWT: ("vp+jwt", "vp"),
    VC_COSE: ("vc+cose", "vc"),
    VP_COSE: ("vp+cose", "vp"),
}


def _media(value: Any) -> Any:
    return value.lower().removeprefix("application/") if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """A token taken apart, NOT yet verified: the secured document, the claims around it
    (the whole payload for vc+jwt/vp+jwt/COSE, the outer claims for legacy JWTs)."""

    envelope: Envelope
    document: Json
    claims: Json
    jws: Jws | None = None
    sign1: cose.DecodedSign1 | None = None

    @property
    def kid(self) -> Any:
        """The ``kid`` header (JOSE) or label 4 (COSE)."""
        if self.jws is not None:
            return self.jws.header.get("kid")
        assert self.sign1 is not None
        return self.sign1.kid

    @property
    def digest(self) -> bytes:
        """SHA-256 of the token bytes: the issuance leaf's ``credential_digest``."""
        return hashlib.sha256(self.envelope.token_bytes).digest()


def unwrap(
    envelope: Envelope, *, max_depth: int = 32, max_size: int = DEFAULT_MAX_TOKEN_BYTES
) -> Unwrapped:
    """Decode the token in ``envelope`` (structure, ``typ``/``cty``, payload JSON);
    raise a well-formedness error. No key is looked up, no signature checked."""
    kind = envelope.kind
    if isinstance(envelope.token, bytes):
        sign1 = cose.decode_sign1(envelope.token)
        typ, cty = _TYP[envelope.media_type]
        for label, expected, name in (
            (cose.TYP, typ, "typ (16)"),
            (cose.CONTENT_TYPE, cty, "content type (3)"),
        ):
            value = sign1.header(label)
            if value is not None and _media(value) != expected:
                raise TokenTypeError(
                    f"COSE {name} is {str(value)[:60]!r}, not application/{expected}"
                )
        payload = _json_object(sign1.payload, max_depth)
        _no_vc_vp_claims(payload, envelope.media_type)
        return Unwrapped(envelope, payload, payload, sign1=sign1)
    decoded = jws.parse_compact(envelope.token, max_size=max_size)
    payload = _json_object(decoded.payload, max_depth)
    typ = _media(decoded.header.get("typ"))
    cty = _media(decoded.header.get("cty"))
    if envelope.media_type == LEGACY_JWT:
        if typ not in (None, "jwt"):
            raise TokenTypeError(f"a JWT's typ must be JWT, not {str(typ)[:60]!r}")
        inner = payload.get(kind)
        if not isinstance(inner, dict):
            raise MalformedEnvelopeError(f"an application/jwt token carries its document in {kind}")
        return Unwrapped(envelope, _from_jwt_claims(inner, payload, kind), payload, jws=decoded)
    expected_typ, expected_cty = _TYP[envelope.media_type]
    if typ is not None and typ != expected_typ:
        raise TokenTypeError(
            f"the JWS typ is {str(typ)[:60]!r}, not {expected_typ} (VC-JOSE-COSE §3.1)",
            typ=str(typ)[:60],
        )
    if cty is not None and cty != expected_cty:
        raise TokenTypeError(
            f"the JWS cty is {str(cty)[:60]!r}, not {expected_cty}", cty=str(cty)[:60]
        )
    _no_vc_vp_claims(payload, envelope.media_type)
    return Unwrapped(envelope, payload, payload, jws=decoded)


def _json_object(data: bytes, max_depth: int) -> Json:
    try:
        value = parse_json(data, max_depth=max_depth)
    except IdentityError as exc:
        raise MalformedEnvelopeError(f"the secured payload is not JSON: {exc.detail}") from None
    if not isinstance(value, dict):
        raise MalformedEnvelopeError("the secured payload is not a JSON object")
    return value


def _no_vc_vp_claims(payload: Json, media_type: str) -> None:
    """§3.1.3: "The JWT Claim Names vc and vp MUST NOT be present"."""
    for claim in ("vc", "vp"):
        if claim in payload:
            raise MalformedEnvelopeError(
                f"a {media_type} payload is the document itself; the {claim} claim MUST NOT "
                "be present (VC-JOSE-COSE §3.1.3)",
                claim=claim,
            )


def _from_jwt_claims(inner: Json, claims: Json, kind: str) -> Json:
    """VC DM 1.1 §6.3.1 decoding: registered claims stand for members the document
    leaves out (``iss`` -> issuer/holder, ``jti`` -> id, ``sub`` -> subject id)."""
    out = dict(inner)
    who = "issuer" if kind == "vc" else "holder"
    if who not in out and isinstance(claims.get("iss"), str):
        out[who] = claims["iss"]
    if "id" not in out and isinstance(claims.get("jti"), str):
        out["id"] = claims["jti"]
    subject = out.get("credentialSubject")
    sub = claims.get("sub")
    if kind == "vc" and isinstance(subject, dict) and "id" not in subject and isinstance(sub, str):
        out["credentialSubject"] = {**subject, "id": sub}
    return out


def check_signature(unwrapped: Unwrapped, resolver: DidResolver, purpose: str) -> DiscoveredKey:
    """alg and crit allowed, ``kid`` resolved for ``purpose``, signature valid; return
    the key that signed."""
    if unwrapped.jws is not None:
        alg = unwrapped.jws.header.get("alg")
        if not isinstance(alg, str) or alg not in jws.SUPPORTED_ALGORITHMS:
            # Before any key is looked up: alg none (RFC 8725 §3.2) or unknown.
            raise UnsupportedAlgorithmError(
                f"JWS alg {str(alg)[:20]!r} is not accepted",
                alg=str(alg)[:20],
                allowed=sorted(jws.SUPPORTED_ALGORITHMS),
            )
        key = discover(unwrapped.kid, resolver, purpose)
        token = unwrapped.envelope.token
        jws.verify_compact(token, key.jwk(), typ=None, max_size=len(token))
        return key
    assert unwrapped.sign1 is not None
    cose.check_headers(unwrapped.sign1)
    key = discover(unwrapped.kid, resolver, purpose)
    cose.verify_sign1(unwrapped.sign1, ed25519=key.ed25519, p256=key.p256)
    return key


def _issuer_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _check_iss(claims: Json, expected: str, header: Json | None) -> None:
    """§4.1.2: ``iss``, if present (claims or header), MUST match the issuer/holder."""
    for where in (claims, header or {}):
        iss = where.get("iss")
        if iss is not None and iss != expected:
            raise ProofVerificationError(
                f"iss {str(iss)[:100]!r} does not match {expected[:100]!r}", iss=str(iss)[:100]
            )


def _numeric_date(value: Any, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidityPeriodError(f"the {name} claim must be a NumericDate", claim=name)
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise ValidityPeriodError(f"the {name} claim is out of range", claim=name) from None


def check_token_times(claims: Json, now: datetime) -> None:
    """JWT ``exp``/``nbf`` bound the signature (VC-JOSE-COSE §3.1.3; RFC 7519 §4.1.4-5)."""
    at = xsd_datetime(now)
    if "exp" in claims and now >= _numeric_date(claims["exp"], "exp"):
        ended = xsd_datetime(_numeric_date(claims["exp"], "exp"))
        raise ValidityPeriodError(f"the token expired at {ended}; now is {at}", exp=ended, now=at)
    if "nbf" in claims and now < _numeric_date(claims["nbf"], "nbf"):
        starts = xsd_datetime(_numeric_date(claims["nbf"], "nbf"))
        raise ValidityPeriodError(f"the token is not valid before {starts}", nbf=starts, now=at)


class EnvelopingVerifier(Verifier):
    """The Data Integrity verifier, plus enveloped credentials (see the module doc)."""

    def __init__(
        self,
        base: Verifier,
        *,
        anchor: AnchorLookup,
        jsonld: JsonLdCheck | None = None,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        max_depth: int = 32,
    ) -> None:
        """``base`` gives the registry, resolver, clock and extra checks; ``anchor``
        answers ``results.anchor`` for a token digest (the base's ``anchor`` check,
        keyed by the JCS of the JSON, does not apply to envelopes)."""
        super().__init__(base.registry, base.resolver, base.clock, base.extra_checks)
        self.anchor = anchor
        self.jsonld = jsonld
        self.max_token_bytes = max_token_bytes
        self.max_depth = max_depth

    def verify(self, document: Any, options: dict[str, Any] | None = None) -> VerifiedCredential:
        """An envelope by the checks above; anything else as Data Integrity."""
        if not is_enveloped(document, "vc"):
            return super().verify(document, options)
        return self.verify_envelope(document, options or {})

    def open(self, document: Any, kind: str) -> Unwrapped:
        """Parse and decode an envelope of ``kind`` (``vc``/``vp``); well-formedness only."""
        envelope = parse_envelope(document, kind, max_token_bytes=self.max_token_bytes)
        return unwrap(envelope, max_depth=self.max_depth, max_size=self.max_token_bytes)

    def _well_formed(self, document: Any) -> tuple[Unwrapped, Credential]:
        unwrapped = self.open(document, "vc")
        credential = parse_credential(unwrapped.document)
        if credential.version != 2:
            raise MalformedEnvelopeError(
                "VC-JOSE-COSE secures VC DM 2.0 credentials; this payload is a 1.1 credential"
            )
        if self.jsonld is not None:
            self.jsonld.check(unwrapped.document)
        return unwrapped, credential

    def verify_envelope(self, document: Any, options: dict[str, Any]) -> VerifiedCredential:
        """Every named check of an enveloped credential; raise naming each failure."""
        try:
            unwrapped, credential = self._well_formed(document)
        except IdentityError as exc:
            raise CredentialNotVerified([CheckResult("wellFormed", exc)]) from exc
        results = [CheckResult("wellFormed", details={"mediaType": unwrapped.envelope.media_type})]
        try:
            key: DiscoveredKey | None = check_signature(unwrapped, self.resolver, "assertionMethod")
            assert key is not None
            results.append(
                CheckResult(
                    "proof",
                    details={
                        "envelope": unwrapped.envelope.media_type,
                        "verificationMethod": key.id,
                    },
                )
            )
        except IdentityError as exc:
            key = None
            results.append(CheckResult("proof", exc))
        results.append(self._check_envelope_issuer(unwrapped, credential, key))
        results.append(self._check_times(unwrapped, credential))
        results.extend(self._run_extra(Verified(credential, ()), options, exclude="anchor"))
        results.extend(self._check_anchor(unwrapped.digest))
        results = _requested(results, options.get("checks"))
        if not all(r.valid for r in results):
            raise CredentialNotVerified(results)
        return VerifiedCredential(credential, (), tuple(results))

    def _check_envelope_issuer(
        self, unwrapped: Unwrapped, credential: Credential, key: DiscoveredKey | None
    ) -> CheckResult:
        if key is None:
            return CheckResult(
                "issuer", skipped="needs a verified proof; the proof check failed", needs="proof"
            )
        try:
            if key.controller != credential.issuer:
                raise ProofVerificationError(
                    "the envelope was not signed by a key the issuer controls",
                    issuer=credential.issuer,
                    verificationMethod=key.id,
                )
            _check_iss(unwrapped.claims, credential.issuer, _header(unwrapped))
        except IdentityError as exc:
            return CheckResult("issuer", exc)
        return CheckResult("issuer", details={"issuer": credential.issuer})

    def _check_times(self, unwrapped: Unwrapped, credential: Credential) -> CheckResult:
        checked = self._check_validity(credential)
        if not checked.valid:
            return checked
        try:
            check_token_times(unwrapped.claims, self.clock.now())
        except IdentityError as exc:
            return CheckResult("validityPeriod", exc)
        return checked

    def _check_anchor(self, digest: bytes) -> list[CheckResult]:
        try:
            details = self.anchor(digest)
        except IdentityError as exc:
            return [CheckResult("anchor", exc)]
        return [] if details is None else [CheckResult("anchor", details=details)]


def _header(unwrapped: Unwrapped) -> Json | None:
    return unwrapped.jws.header if unwrapped.jws is not None else None


def _audiences(value: Any) -> list[str]:
    listed = value if isinstance(value, list) else [value]
    return [a for a in listed if isinstance(a, str)]


def verify_enveloped_presentation(
    doc: Any,
    *,
    registry: SuiteRegistry,
    resolver: DidResolver,
    verifier: Verifier,
    challenge: str | None,
    domain: str | None,
    options: Json | None = None,
) -> VerifiedPresentation:
    """An ``EnvelopedVerifiablePresentation`` (vp+jwt, vp+cose, or a VC DM 1.1 JWT):
    well-formed, signed by a key of the holder (``authentication``) for ``challenge``
    (the ``nonce`` claim) and ``domain`` (``aud``), every credential in it verified by
    ``verifier``. Same shape as :func:`~identity.credentials.presentations.
    verify_presentation` (``registry`` is unused: the signature is JOSE/COSE)."""
    del registry
    if not isinstance(verifier, EnvelopingVerifier):
        raise TypeError("enveloped presentations need an EnvelopingVerifier")
    try:
        unwrapped = verifier.open(doc, "vp")
        creds = parse_presentation(unwrapped.document)
    except IdentityError as exc:
        raise PresentationNotVerified([CheckResult("wellFormed", exc)], {}) from exc
    checks = [CheckResult("wellFormed", details={"mediaType": unwrapped.envelope.media_type})]
    holder = _issuer_id(unwrapped.document.get("holder"))
    try:
        key = check_signature(unwrapped, resolver, "authentication")
        if holder is not None and key.controller != holder:
            raise ProofVerificationError(
                "the presentation was not signed by a key the holder controls"
            )
        _check_iss(unwrapped.claims, holder or key.controller, _header(unwrapped))
        if unwrapped.claims.get("nonce") != challenge:
            raise InvalidChallengeError(
                "the presentation's nonce is not the verifier's challenge"
                if "nonce" in unwrapped.claims
                else "the presentation carries no nonce for the verifier's challenge"
            )
        if domain is not None and domain not in _audiences(unwrapped.claims.get("aud")):
            raise InvalidDomainError("the presentation's aud does not name the verifier's domain")
        check_token_times(unwrapped.claims, verifier.clock.now())
        checks.append(CheckResult("holderProof", details={"verificationMethod": key.id}))
        holder = holder or key.controller
    except IdentityError as exc:
        checks.append(CheckResult("holderProof", exc))
    return VerifiedPresentation(holder, (), verify_embedded(verifier, creds, options, checks))


def secure(document: Json, media_type: str, *, key: Ed25519PrivateKey, kid: str) -> Json:
    """``document`` (a credential or presentation) secured as ``media_type`` and
    enveloped; ``kid`` is the signing verification method's DID URL."""
    payload = jcs(document)
    if media_type in (VC_JWT, VP_JWT):
        typ, cty = _TYP[media_type]
        header = {"alg": "EdDSA", "kid": kid, "typ": typ, "cty": cty}
        signing = SigningKey.from_ed25519(key)
        return make_envelope(media_type, jws.sign_compact(header, payload, signing))
    if media_type in (VC_COSE, VP_COSE):
        typ, cty = _TYP[media_type]
        token = cose.sign1(
            payload,
            seed=key.seed,
            public=key.public_key().raw,
            kid=kid,
            typ=f"application/{typ}",
            content_type=f"application/{cty}",
        )
        return make_envelope(media_type, token)
    raise MalformedEnvelopeError(f"cannot secure as {media_type!r}", mediaType=media_type[:100])


def token_digest(envelope: Json) -> bytes:
    """SHA-256 of the token bytes in an envelope this module made."""
    parsed = parse_envelope(envelope, "vp" if "Presentation" in str(envelope.get("type")) else "vc")
    return hashlib.sha256(parsed.token_bytes).digest()


def present(
    credentials: Sequence[Json],
    media_type: str,
    *,
    holder_key: Ed25519PrivateKey,
    holder_did: str,
    kid: str,
    nonce: str,
    audience: str | None = None,
) -> Json:
    """The holder's side: a presentation of ``credentials`` (envelopes or Data Integrity
    credentials), secured as ``media_type`` (vp+jwt or vp+cose) with the verifier's
    ``nonce`` (its challenge) and ``aud`` (its domain)."""
    presentation: Json = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder_did,
        "verifiableCredential": list(credentials),
        "nonce": nonce,
    }
    if audience is not None:
        presentation["aud"] = audience
    return secure(presentation, media_type, key=holder_key, kid=kid)
