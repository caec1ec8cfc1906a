"""SD-JWT VCs in the running service: issue, verify, issuer and type metadata, and the
Token Status Lists -- one object (:class:`SdJwtVcService`) attached to ``Services``.

* ``iss`` is the service's public URL; agencies' keys are published as JWT VC issuer
  metadata at ``/.well-known/jwt-vc-issuer`` inserted after the host (SD-JWT VC §5), each
  with ``kid`` = the agency's verification method (its did:key URL).
* Issuance is anchored like any other: the record (digest = SHA-256 of the issuer-signed
  JWT) and the ``credential.issued`` leaf (that digest and each disclosure's digest, never
  a claim) are written in one transaction through the same group-committed writer.
* The status of an SD-JWT VC is its record's index in the issuer's Bitstring group; the
  Token Status List of a group is rendered from the same bits, so revoking or suspending
  through ``/credentials/status`` flips both, and the change's log leaf covers both.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from identity.clock import Clock, xsd_datetime
from identity.credentials.model import parse_datetime
from identity.credentials.token_status import (
    INVALID,
    NAMES,
    SUSPENDED,
    TokenStatusList,
    from_bitstrings,
    sign_status_list,
    verify_status_list,
)
from identity.errors import (
    CredentialStatusError,
    InvalidVerificationMethodError,
    MalformedValueError,
    NotFoundError,
    PermissionDeniedError,
    RangeError,
    StatusRetrievalError,
)
from identity.jose.keys import PublicJwk, SigningKey
from identity.keys import Ed25519PrivateKey
from identity.log.entries import MAX_VALUE_LENGTH
from identity.registry.trust import TrustRegistry
from identity.registry.types import CredentialType
from identity.sdjwt.issuance import VC_TYP, IssuedSdJwt, SdJwtVcClaims, issue_sd_jwt_vc
from identity.sdjwt.verifier import KeyBindingRequirement, VerifiedSdJwtVc, verify_sd_jwt_vc
from identity.stores import Anchor, CredentialRecord, IssuerRecord, Store
from service.agency_keys import verification_method  # also JOSE's kid
from service.log import Anchors, digest_field, receipt_json
from service.status import StatusLists

STATUS_LIST_TTL = 300  # seconds a verifier may cache a Token Status List (its ``ttl``)
MAX_KB_AGE = 300
#: disclosure digests (43 characters and a space each) that fit a log entry's field value
MAX_ANCHORED_DISCLOSURES = MAX_VALUE_LENGTH // 44


def jwt_vc_issuer_path(public_url: str) -> str:
    """The well-known path for ``iss`` (SD-JWT VC §5.1): inserted after the host."""
    path = public_url.split("://", 1)[-1].partition("/")[2].rstrip("/")
    return "/.well-known/jwt-vc-issuer" + (f"/{path}" if path else "")


@dataclass
class SdJwtVcService:
    """The SD-JWT VC capability, over the service's stores, log, status lists and keys."""

    store: Store
    clock: Clock
    public_url: str
    anchors: Anchors
    status: StatusLists
    trust: TrustRegistry
    signing_key: Callable[[IssuerRecord], Ed25519PrivateKey]
    write_record: Callable[[CredentialRecord, Anchor | None], Awaitable[None]]
    _lists: dict[str, tuple[int, str, IssuerRecord, TokenStatusList]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- names --------------------------------------------------------------------------

    @property
    def iss(self) -> str:
        """The ``iss`` of every SD-JWT VC this service issues."""
        return self.public_url.rstrip("/")

    def vct(self, type_name: str) -> str:
        """The resolvable ``vct`` of a credential type (its type metadata URL)."""
        return f"{self.iss}/vct/{type_name}"

    def status_uri(self, group: str) -> str:
        """The Token Status List URI of a status group (the token's ``sub``)."""
        return f"{self.iss}/statuslists/{group}"

    def _jose_key(self, issuer: IssuerRecord) -> SigningKey:
        return SigningKey.from_ed25519(self.signing_key(issuer))

    # -- metadata -----------------------------------------------------------------------

    def issuer_metadata(self) -> dict[str, Any]:
        """JWT VC issuer metadata (SD-JWT VC §5): ``issuer`` and every agency's key."""
        keys = []
        for issuer in self.store.list_issuers():
            jwk = self._jose_key(issuer).public_jwk.to_dict()
            keys.append({**jwk, "kid": verification_method(issuer), "alg": "EdDSA", "use": "sig"})
        return {"issuer": self.iss, "jwks": {"keys": keys}}

    def type_metadata(self, type_name: str) -> dict[str, Any]:
        """SD-JWT VC type metadata (§6) with zh-CN and en display names for the type and
        each claim, and whether each claim is selectively disclosable."""
        credential_type = self._type(type_name)
        display = credential_type.display or {"en": credential_type.title}
        disclosable = set(credential_type.selectively_disclosable)
        claims = []
        for name in credential_type.schema.get("properties", {}):
            if name == "id":
                continue
            labels = credential_type.claim_display.get(name, {"en": name})
            claims.append(
                {
                    "path": [name],
                    "display": [{"locale": k, "label": v} for k, v in labels.items()],
                    "sd": "allowed" if name in disclosable else "never",
                }
            )
        return {
            "vct": self.vct(type_name),
            "name": credential_type.title,
            "display": [{"locale": k, "name": v} for k, v in display.items()],
            "claims": claims,
            "schema_uri": self.trust.schema_url(type_name),
        }

    def _type(self, name: str) -> CredentialType:
        credential_type = self.trust.find_type(name)
        if credential_type is None:
            raise NotFoundError(f"credential type {name!r} is not registered", type=name)
        return credential_type

    # -- issue --------------------------------------------------------------------------

    async def issue(self, issuer: IssuerRecord, body: dict[str, Any]) -> dict[str, Any]:
        """Issue an SD-JWT VC from a VC-API-shaped body (docs/sd-jwt.md); everything that
        can refuse runs before the record and its leaf are written together."""
        credential = _object(body.get("credential"), "credential")
        options = _object(body.get("options", {}), "options")
        type_name = _type_name(credential.get("type"))
        credential_type = self._type(type_name)
        now = self.clock.now().replace(microsecond=0)
        if not self.trust.accredited(issuer.id, type_name, now).accredited:
            raise PermissionDeniedError(
                f"agency is not accredited to issue {type_name}", type=type_name
            )
        subject = _object(credential.get("credentialSubject"), "credential.credentialSubject")
        credential_type.validate_subject(subject)
        cnf = _object(options.get("cnf"), "options.cnf")
        holder = PublicJwk.from_dict(cnf.get("jwk"))
        valid_from = _time(credential, "validFrom") or now
        valid_until = _time(credential, "validUntil") or credential_type.default_valid_until(
            valid_from
        )
        assignment = await self.status.assign(issuer, credential_type.suspendable)
        claims = {k: v for k, v in subject.items() if k != "id"}
        envelope = SdJwtVcClaims(
            issuer=self.iss,
            vct=self.vct(type_name),
            issued_at=int(now.timestamp()),
            holder=holder,
            valid_from=int(valid_from.timestamp()),
            valid_until=int(valid_until.timestamp()) if valid_until else None,
            status={
                "status_list": {"idx": assignment.index, "uri": self.status_uri(assignment.group)}
            },
            subject=subject.get("id") if isinstance(subject.get("id"), str) else None,
        )
        issued = issue_sd_jwt_vc(
            claims,
            envelope,
            self._jose_key(issuer),
            kid=verification_method(issuer),
            disclosable=credential_type.selectively_disclosable,
            random=os.urandom,
        )
        record = CredentialRecord(
            id=f"urn:uuid:{uuid.uuid4()}",
            digest=issued.issuer_jwt_digest,
            issuer_id=issuer.id,
            issuer_did=issuer.did,
            type=type_name,
            subject_id=envelope.subject,
            issued_at=now,
            status_index=assignment.index,
            status_group=assignment.group,
        )
        anchor = self.issued_anchor(issued, issuer, type_name, now)
        await self.write_record(record, anchor)
        receipt = receipt_json(self.anchors.receipt(anchor))
        return {
            "credential": issued.sd_jwt,
            "format": VC_TYP,
            "credentialId": record.id,
            "vct": envelope.vct,
            "selectivelyDisclosable": list(credential_type.selectively_disclosable),
            "receipt": receipt,
        }

    def issued_anchor(
        self, issued: IssuedSdJwt, issuer: IssuerRecord, type_name: str, now: datetime
    ) -> Anchor:
        """The ``credential.issued`` leaf of an SD-JWT VC: the digest of the issuer-signed
        JWT and each disclosure's digest (what was handed out), never a claim value."""
        if len(issued.disclosures) > MAX_ANCHORED_DISCLOSURES:
            raise RangeError(
                f"{len(issued.disclosures)} disclosures; at most {MAX_ANCHORED_DISCLOSURES} "
                "fit one log entry (conceal fewer array elements)",
                limit=MAX_ANCHORED_DISCLOSURES,
            )
        fields = {
            "credential_digest": digest_field(issued.issuer_jwt_digest),
            "issuer": issuer.did,
            "type": type_name,
            "format": VC_TYP,
            "disclosure_digests": " ".join(issued.disclosure_digests),
        }
        return self.anchors.anchor("credential.issued", now, fields)

    # -- verify -------------------------------------------------------------------------

    def _issuer_key(self, header: dict[str, Any], payload: dict[str, Any]) -> PublicJwk:
        if payload.get("iss") != self.iss:
            raise InvalidVerificationMethodError(
                "iss is not this service; only its own issuer metadata is trusted",
                iss=str(payload.get("iss"))[:200],
            )
        kid = header.get("kid")
        issuer = (
            self.store.find_issuer_by_did(kid.partition("#")[0]) if isinstance(kid, str) else None
        )
        if issuer is None or kid != verification_method(issuer):
            raise InvalidVerificationMethodError(
                "kid is not a key in this service's JWT VC issuer metadata",
                kid=str(kid)[:200],
            )
        return self._jose_key(issuer).public_jwk

    def _always_disclosed(self, payload: dict[str, Any]) -> list[str]:
        name = _vct_type(payload.get("vct"), self.iss)
        credential_type = self.trust.find_type(name) if name else None
        if credential_type is None:
            return []
        disclosable = set(credential_type.selectively_disclosable)
        return [p for p in credential_type.schema.get("properties", {}) if p not in disclosable]

    def verify(self, body: dict[str, Any]) -> dict[str, Any]:
        """Verify an SD-JWT VC (or presentation); ``verified`` is true, or this raises.
        ``claims`` holds exactly what was disclosed."""
        options = _object(body.get("options", {}), "options")
        requirement = _key_binding(options.get("keyBinding"))
        now = int(self.clock.now().timestamp())
        verified = verify_sd_jwt_vc(
            body.get("credential"),
            issuer_key=self._issuer_key,
            now=now,
            always_disclosed=self._always_disclosed,
            key_binding=requirement,
        )
        issuer_did = str(verified.header["kid"]).partition("#")[0]
        results: dict[str, Any] = {
            "signature": {"valid": True, "alg": verified.header["alg"]},
            "disclosures": {"valid": True, "count": len(verified.disclosures)},
            "keyBinding": {"valid": True, "required": requirement is not None}
            if verified.key_binding is not None
            else {"valid": True, "skipped": "no key binding presented or required"},
            "validity": {"valid": True},
            "status": self.check_status(verified),
            "issuerTrust": self._issuer_trust(verified, issuer_did, options),
            "anchor": self.anchors.check_anchor(
                hashlib.sha256(verified.issuer_jwt.encode("ascii")).digest(), self.store
            ),
        }
        return {
            "verified": True,
            "format": VC_TYP,
            "issuer": issuer_did,
            "claims": _public_claims(verified.claims),
            "disclosed": list(verified.disclosed),
            "results": results,
        }

    def _issuer_trust(
        self, verified: VerifiedSdJwtVc, did: str, options: dict[str, Any]
    ) -> dict[str, Any]:
        name = _vct_type(verified.claims.get("vct"), self.iss) or ""
        issuer = self.store.find_issuer_by_did(did)
        try:
            moment = datetime.fromtimestamp(int(verified.claims.get("iat", 0)), UTC)
        except (OverflowError, ValueError, OSError):
            raise MalformedValueError("iat is not a usable NumericDate", claim="iat") from None
        trust = (
            self.trust.accredited(issuer.id, name, moment).to_json()
            if issuer is not None and self.trust.find_type(name) is not None
            else {"accredited": False, "reason": "issuer or type not registered here"}
        )
        result = {"type": name, "at": xsd_datetime(moment), **trust}
        if options.get("requireAccreditedIssuer") and not result.get("accredited"):
            raise PermissionDeniedError(
                "the issuer was not accredited for this credential type at issuance",
                issuerTrust=result,
            )
        return result

    # -- status -------------------------------------------------------------------------

    def check_status(self, verified: VerifiedSdJwtVc) -> dict[str, Any]:
        """``results.status`` from the Token Status List the credential references;
        revoked or suspended raises :class:`CredentialStatusError`."""
        status = verified.claims.get("status")
        if status is None:
            return {"valid": True, "skipped": "the credential has no status"}
        reference = status.get("status_list") if isinstance(status, dict) else None
        if not isinstance(reference, dict):
            raise MalformedValueError("status.status_list must be an object", claim="status")
        idx, uri = reference.get("idx"), reference.get("uri")
        if not isinstance(idx, int) or isinstance(idx, bool) or idx < 0 or not isinstance(uri, str):
            raise MalformedValueError("status_list has a non-negative idx and a uri")
        prefix = self.status_uri("")
        if not uri.startswith(prefix):
            raise StatusRetrievalError(
                "only this service's Token Status Lists are dereferenced", uri=uri[:200]
            )
        _, _, listed = self._status_list(uri.removeprefix(prefix))
        value = listed.get(idx)
        if value in (INVALID, SUSPENDED):
            state = "revoked" if value == INVALID else "suspended"
            raise CredentialStatusError(f"the credential is {state}", tokenStatus=NAMES[value])
        return {"valid": True, "status": NAMES.get(value, hex(value)), "uri": uri, "idx": idx}

    def status_list_token(self, group: str) -> tuple[str, IssuerRecord]:
        """The signed Token Status List of ``group`` for its current version (cached until
        the bits change)."""
        token, issuer, _ = self._status_list(group)
        return token, issuer

    def _status_list(self, group: str) -> tuple[str, IssuerRecord, TokenStatusList]:
        """(token, issuer, decoded list) for the current version of ``group``. The decoded
        list is the served token verified and decoded once per version, so a verifier here
        reads exactly what a verifier elsewhere would."""
        version = self.status_list_version(group)
        with self._lock:
            cached = self._lists.get(group)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2], cached[3]
        revocation = self.store.get_status_list(group, "revocation")
        try:
            suspension: bytes | None = self.store.get_status_list(group, "suspension").bits
        except NotFoundError:
            suspension = None
        issuer = self.store.get_issuer(revocation.issuer_id)
        now = int(self.clock.now().timestamp())
        token = sign_status_list(
            TokenStatusList(2, from_bitstrings(revocation.bits, suspension)),
            uri=self.status_uri(group),
            key=self._jose_key(issuer),
            kid=verification_method(issuer),
            issued_at=now,
            ttl=STATUS_LIST_TTL,
            issuer=self.iss,
        )
        decoded = verify_status_list(
            token, uri=self.status_uri(group), key=self._jose_key(issuer).public_jwk, now=now
        )
        with self._lock:
            self._lists[group] = (version, token, issuer, decoded)
        return token, issuer, decoded

    def status_list_version(self, group: str) -> int:
        """A number that grows with every change of ``group``'s lists (the ETag)."""
        version = self.store.status_list_version(group, "revocation")
        try:
            return version + self.store.status_list_version(group, "suspension")
        except NotFoundError:
            return version


def build_sdjwt(
    store: Store,
    clock: Clock,
    public_url: str,
    anchors: Anchors,
    status: StatusLists,
    trust: TrustRegistry,
    signing_key: Callable[[IssuerRecord], Ed25519PrivateKey],
    write_record: Callable[[CredentialRecord, Anchor | None], Awaitable[None]],
) -> SdJwtVcService:
    """The SD-JWT VC capability for ``Services`` (its one attached field)."""
    return SdJwtVcService(
        store, clock, public_url, anchors, status, trust, signing_key, write_record
    )


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedValueError(f"{name} must be a JSON object", field=name)
    return value


def _type_name(value: Any) -> str:
    listed = value if isinstance(value, list) else [value]
    names = [t for t in listed if isinstance(t, str) and t != "VerifiableCredential"]
    if len(names) != 1:
        raise MalformedValueError(
            "credential.type names exactly one registered credential type", field="type"
        )
    return names[0]


def _time(credential: dict[str, Any], name: str) -> datetime | None:
    value = credential.get(name)
    return None if value is None else parse_datetime(value, name).replace(microsecond=0)


def _vct_type(vct: Any, iss: str) -> str | None:
    prefix = f"{iss}/vct/"
    return vct.removeprefix(prefix) if isinstance(vct, str) and vct.startswith(prefix) else None


def _key_binding(value: Any) -> KeyBindingRequirement | None:
    if value is None:
        return None
    options = _object(value, "options.keyBinding")
    nonce, audience = options.get("nonce"), options.get("audience")
    max_age = options.get("maxAge", MAX_KB_AGE)
    if not isinstance(nonce, str) or not nonce or not isinstance(audience, str) or not audience:
        raise MalformedValueError(
            "options.keyBinding needs the nonce and audience the verifier issued",
            field="options.keyBinding",
        )
    if not isinstance(max_age, int) or isinstance(max_age, bool) or not 1 <= max_age <= 86_400:
        raise MalformedValueError("options.keyBinding.maxAge is 1..86400 seconds")
    return KeyBindingRequirement(nonce, audience, max_age)


def _public_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """The disclosed claims as reported (the holder's ``cnf`` key is kept: it is public)."""
    return dict(claims)


__all__ = ["SdJwtVcService", "build_sdjwt", "jwt_vc_issuer_path", "verification_method"]
