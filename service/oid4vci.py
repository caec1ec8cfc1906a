"""OpenID for Verifiable Credential Issuance 1.0 on this service (issuer side).

:class:`Oid4vciIssuer` is built from ``Services``' parts in the app's lifespan and held at
``app.state.oid4vci`` (service/routers/oid4vci.py reads it). It owns the OID4VCI store
(offers, access tokens, ``c_nonce``) beside the main store, and issues through the
existing paths only: ``dc+sd-jwt`` through :class:`service.sdjwt.SdJwtVcService`,
``ldp_vc`` through :func:`service.routers.credentials.issue_credential`, so every
credential is recorded and anchored as any other.

Secrets: the pre-authorized code is HMAC(offer id) under a key derived from the master
secret, so the offer can be served by reference without the code ever being stored (its
SHA-256 is); the Transaction Code (PIN) is returned once to the agency and stored as a
salted HMAC; access tokens are stored as SHA-256. None of them is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Collection
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from identity.canonical import jcs
from identity.credentials.model import parse_datetime
from identity.dids.cityid import METHOD as CITYID
from identity.dids.resolver import MethodResolver
from identity.encoding import b64url
from identity.errors import (
    ConflictError,
    IdentityError,
    MalformedValueError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)
from identity.keys import RandomBytes
from identity.oid4vci import errors as oe
from identity.oid4vci.authorization import AUTHORIZATION_CODE_GRANT
from identity.oid4vci.offer import (
    PRE_AUTHORIZED_GRANT,
    Offer,
    digest,
    new_pin,
    pin_digest,
    redeem,
    secret_token,
)
from identity.oid4vci.proof import ALGORITHMS, verify_proof
from identity.oid4vci.store import AccessToken, Oid4vciStore
from identity.storage.memory import MemoryStore
from identity.storage.memory_oid4vci import MemoryOid4vciStore
from identity.storage.redis import RedisStore
from identity.storage.redis_oid4vci import RedisOid4vciStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_oid4vci import SqliteOid4vciStore
from identity.stores import Store
from service.container import Services
from service.settings import Settings

events = logging.getLogger("identity.events")

SD_JWT, LDP_VC = "dc+sd-jwt", "ldp_vc"
FORMATS = {SD_JWT: "dc_sd_jwt", LDP_VC: "ldp_vc"}
CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")
DEFERRED_INTERVAL = 5  # seconds a wallet waits between deferred polls (§8.3 interval)
PROOF_MAX_AGE = 300
OFFER_MEMBERS = frozenset(
    {"type", "claims", "formats", "cryptosuite", "subject", "validUntil", "txCode", "deferred",
     "grants"}
)  # fmt: skip
#: the ``grants`` an agency may offer (OID4VCI §4.1.1)
GRANTS = ("pre-authorized_code", "authorization_code")
#: a holder DID of the right shape, to check an offer's claims before the holder is known
PLACEHOLDER_HOLDER = "did:jwk:" + b64url(b'{"crv":"Ed25519","kty":"OKP","x":"' + b"A" * 43 + b'"}')
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def configuration_id(type_name: str, fmt: str) -> str:
    """The credential configuration id of a registered type in a format."""
    return f"{type_name}_{FORMATS[fmt]}"


def well_known(public_url: str, name: str) -> str:
    """``/.well-known/<name>`` with the identifier's path after it (OID4VCI §12.2.2,
    RFC 8414 §3.1): the path a metadata request for ``public_url`` asks for."""
    path = public_url.split("://", 1)[-1].partition("/")[2].rstrip("/")
    return f"/.well-known/{name}" + (f"/{path}" if path else "")


def oid4vci_store_beside(store: Store, settings: Settings) -> Oid4vciStore:
    """The OID4VCI store in the same database as ``store``."""
    if isinstance(store, SqliteStore):
        return SqliteOid4vciStore(store.path, synchronous=store.synchronous)
    if isinstance(store, RedisStore):
        root = store._prefix.removesuffix(store.NAMESPACE)
        return RedisOid4vciStore(store._client, root, retry_after=store._retry_after)
    if isinstance(store, MemoryStore):
        return MemoryOid4vciStore()
    url = settings.resolved_storage_url
    if url.startswith(("redis://", "rediss://")):
        return RedisOid4vciStore.from_url(
            url, settings.redis_prefix, socket_timeout=settings.redis_timeout_s
        )
    return MemoryOid4vciStore()


def distinct_choices(value: Any, allowed: Collection[str]) -> bool:
    """Whether ``value`` is a non-empty JSON list of distinct members of ``allowed`` (the
    offer's ``formats`` and ``grants``)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and v in allowed for v in value)
        and len(set(value)) == len(value)
    )


@dataclass(frozen=True, slots=True)
class CreatedOffer:
    """What the agency gets back once: the offer and the PIN to hand over separately."""

    offer: Offer
    credential_offer: dict[str, Any]
    tx_code: str | None


@dataclass
class Oid4vciIssuer:
    """The OID4VCI Credential Issuer and its token endpoint (the Authorization Server)."""

    svc: Services
    store: Oid4vciStore
    code_key: bytes
    random: RandomBytes = os.urandom

    # -- names --------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The service's settings."""
        return self.svc.settings

    @property
    def issuer_id(self) -> str:
        """The Credential Issuer Identifier (and the ``aud`` of every key proof)."""
        return self.settings.public_url.rstrip("/")

    def url(self, path: str) -> str:
        """An absolute URL of this service."""
        return self.issuer_id + path

    def now(self) -> int:
        """The clock, in Unix seconds."""
        return int(self.svc.clock.now().timestamp())

    def code_of(self, offer_id: str) -> str:
        """The pre-authorized code of an offer (recomputed, never stored)."""
        mac = hmac.new(self.code_key, offer_id.encode(), hashlib.sha256).digest()
        return secret_token(lambda _: mac)

    def offer_uri(self, offer_id: str) -> str:
        """The ``credential_offer_uri`` of an offer (by reference, §4.1.3)."""
        return self.url(f"/oid4vci/offers/{offer_id}")

    def offer_uri_by_reference(self, offer_id: str) -> str:
        """The ``openid-credential-offer://`` URI that points at :meth:`offer_uri` (§4.1)."""
        return "openid-credential-offer://?credential_offer_uri=" + quote(
            self.offer_uri(offer_id), safe=""
        )

    # -- metadata -----------------------------------------------------------------------

    def configurations(self) -> dict[str, dict[str, Any]]:
        """``credential_configurations_supported``: every registered type in both formats."""
        out: dict[str, dict[str, Any]] = {}
        proof_types = {"jwt": {"proof_signing_alg_values_supported": list(ALGORITHMS)}}
        for credential_type in self.svc.store.list_types():
            name = credential_type.name
            type_metadata = self.svc.issuance.sdjwt.type_metadata(name)
            display = [{"name": d["name"], "locale": d["locale"]} for d in type_metadata["display"]]
            claims = [{"path": c["path"], "display": c["display"]} for c in type_metadata["claims"]]
            metadata = {"display": display, "claims": claims}
            out[configuration_id(name, SD_JWT)] = {
                "format": SD_JWT,
                "vct": self.svc.issuance.sdjwt.vct(name),
                "scope": name,
                "cryptographic_binding_methods_supported": ["jwk", "did:key", "did:" + CITYID],
                "credential_signing_alg_values_supported": ["EdDSA"],
                "proof_types_supported": proof_types,
                "credential_metadata": metadata,
            }
            out[configuration_id(name, LDP_VC)] = {
                "format": LDP_VC,
                "scope": name + "_ldp",
                "cryptographic_binding_methods_supported": ["did:key", "did:" + CITYID],
                "credential_signing_alg_values_supported": list(CRYPTOSUITES),
                "proof_types_supported": proof_types,
                "credential_definition": {
                    "@context": [VC_V2, *filter(None, [credential_type.context])],
                    "type": ["VerifiableCredential", name],
                },
                "credential_metadata": metadata,
            }
        return out

    def issuer_metadata(self) -> dict[str, Any]:
        """Credential Issuer Metadata (OID4VCI §12.2.4)."""
        return {
            "credential_issuer": self.issuer_id,
            "authorization_servers": [self.issuer_id],
            "credential_endpoint": self.url("/oid4vci/credential"),
            "nonce_endpoint": self.url("/oid4vci/nonce"),
            "deferred_credential_endpoint": self.url("/oid4vci/deferred_credential"),
            "notification_endpoint": self.url("/oid4vci/notification"),
            "display": [
                {"name": "城市数字身份服务", "locale": "zh-CN"},
                {"name": "City digital identity service", "locale": "en"},
            ],
            "credential_configurations_supported": self.configurations(),
        }

    def authorization_server_metadata(self) -> dict[str, Any]:
        """OAuth 2.0 Authorization Server Metadata (RFC 8414 §2): the token endpoint and
        the authorization endpoint of the authorization code flow (PKCE S256 only, the
        response's ``iss`` per RFC 9207)."""
        return {
            "issuer": self.issuer_id,
            "authorization_endpoint": self.url("/oid4vci/authorize"),
            "pushed_authorization_request_endpoint": self.url("/oid4vci/par"),
            "require_pushed_authorization_requests": False,
            "token_endpoint": self.url("/oid4vci/token"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "authorization_details_types_supported": ["openid_credential"],
            "scopes_supported": sorted(
                {c["scope"] for c in self.configurations().values() if "scope" in c}
            ),
            "token_endpoint_auth_methods_supported": ["none"],
            "pre-authorized_grant_anonymous_access_supported": True,
        }

    # -- offers (agency API) ------------------------------------------------------------

    def create_offer(self, issuer_id: str, body: dict[str, Any]) -> CreatedOffer:
        """Validate everything that issuance will need, then store the offer."""
        unknown = sorted(set(body) - OFFER_MEMBERS)
        if unknown:
            raise MalformedValueError(f"unknown offer member(s): {', '.join(unknown)}")
        type_name = body.get("type")
        if not isinstance(type_name, str):
            raise MalformedValueError("type names a registered credential type", field="type")
        credential_type = self.svc.trust.find_type(type_name)
        if credential_type is None:
            raise MalformedValueError(f"credential type {type_name!r} is not registered")
        moment = self.svc.clock.now()
        if not self.svc.trust.accredited(issuer_id, type_name, moment).accredited:
            raise PermissionDeniedError(
                f"agency is not accredited to issue {type_name}", type=type_name
            )
        claims = body.get("claims")
        if not isinstance(claims, dict) or "id" in claims:
            raise MalformedValueError(
                "claims is an object of credentialSubject claims (the holder sets id)",
                field="claims",
            )
        subject = body.get("subject")
        if subject is not None and (not isinstance(subject, str) or not subject.startswith("did:")):
            raise MalformedValueError("subject is the citizen's DID", field="subject")
        credential_type.validate_subject({**claims, "id": subject or PLACEHOLDER_HOLDER})
        formats = body.get("formats", [SD_JWT])
        if not distinct_choices(formats, FORMATS):
            raise MalformedValueError(f"formats is a list of {sorted(FORMATS)}", field="formats")
        cryptosuite = body.get("cryptosuite")
        if cryptosuite is None:
            cryptosuite = self.settings.default_cryptosuite
        if cryptosuite not in CRYPTOSUITES:
            raise MalformedValueError(f"cryptosuite is one of {CRYPTOSUITES}")
        valid_until = body.get("validUntil")
        if valid_until is not None:
            until = parse_datetime(valid_until, "validUntil")
            if until <= moment:
                raise MalformedValueError("validUntil is in the past", field="validUntil")
        use_pin, deferred = body.get("txCode", True), body.get("deferred", False)
        if not isinstance(use_pin, bool) or not isinstance(deferred, bool):
            raise MalformedValueError("txCode and deferred are booleans")
        grants = self._grants(body.get("grants", ["pre-authorized_code"]), subject)
        use_pin = use_pin and "pre-authorized_code" in grants
        offer_id = secret_token(self.random)
        pin = new_pin(self.random, self.settings.oid4vci_tx_code_length) if use_pin else None
        salt = self.random(16).hex() if pin else None
        now = self.now()
        offer = Offer(
            id=offer_id,
            issuer_id=issuer_id,
            type_name=type_name,
            configuration_ids=tuple(configuration_id(type_name, f) for f in formats),
            claims=claims,
            subject=subject,
            valid_until=valid_until,
            code_hash=digest(self.code_of(offer_id)),
            pin_salt=salt,
            pin_hash=pin_digest(salt, pin) if salt and pin else None,
            tx_code_length=self.settings.oid4vci_tx_code_length,
            tries_left=self.settings.oid4vci_pin_tries,
            expires_at=now + 60 * self.settings.oid4vci_code_minutes,
            created_at=now,
            deferred=deferred,
            pending={"cryptosuite": cryptosuite},
            pre_authorized="pre-authorized_code" in grants,
            authorization_code="authorization_code" in grants,
        )
        self.store.add_offer(offer)
        events.info(
            "credential offer created",
            extra={"fields": {"event": "oid4vci.offer_created", "type": type_name}},
        )
        return CreatedOffer(offer, self.credential_offer(offer), pin)

    @staticmethod
    def _grants(grants: Any, subject: str | None) -> tuple[str, ...]:
        """The offer's ``grants``: a non-empty list of :data:`GRANTS`; the authorization
        code flow names its citizen (``subject``), who signs in with that DID."""
        if not distinct_choices(grants, GRANTS):
            raise MalformedValueError(f"grants is a list of {list(GRANTS)}", field="grants")
        if "authorization_code" in grants and subject is None:
            raise MalformedValueError(
                "the authorization_code grant needs subject: the DID that will sign in",
                field="subject",
            )
        return tuple(grants)

    def credential_offer(self, offer: Offer) -> dict[str, Any]:
        """The Credential Offer object (OID4VCI §4.1.1) with the grants the agency chose;
        ``issuer_state`` of the authorization code grant names the offer."""
        grants: dict[str, Any] = {}
        if offer.authorization_code:
            grants[AUTHORIZATION_CODE_GRANT] = {"issuer_state": offer.id}
        if not offer.pre_authorized:
            return {
                "credential_issuer": self.issuer_id,
                "credential_configuration_ids": list(offer.configuration_ids),
                "grants": grants,
            }
        grant: dict[str, Any] = {"pre-authorized_code": self.code_of(offer.id)}
        if offer.pin_hash is not None:
            grant["tx_code"] = {
                "input_mode": "numeric",
                "length": offer.tx_code_length,
                "description": "请输入发证机关提供的验证码 / Enter the code the agency gave you",
            }
        return {
            "credential_issuer": self.issuer_id,
            "credential_configuration_ids": list(offer.configuration_ids),
            "grants": {PRE_AUTHORIZED_GRANT: grant, **grants},
        }

    def offer_by_reference(self, offer_id: str) -> dict[str, Any]:
        """The Credential Offer at its ``credential_offer_uri`` while the code is usable."""
        offer = self.store.get_offer(offer_id)
        if offer is None or offer.state != "offered" or self.now() >= offer.expires_at:
            raise NotFoundError("no open credential offer here")
        return self.credential_offer(offer)

    def offer_links(self, created: CreatedOffer) -> dict[str, Any]:
        """The agency's answer: the offer by value and by reference, as URIs and QR codes."""
        offer = created.offer
        by_value = quote(jcs(created.credential_offer).decode(), safe="")
        out: dict[str, Any] = {
            "offerId": offer.id,
            "credential_offer": created.credential_offer,
            "credential_offer_uri": self.offer_uri(offer.id),
            "offerUri": self.offer_uri_by_reference(offer.id),
            "offerUriByValue": "openid-credential-offer://?credential_offer=" + by_value,
            "qr": {
                "svg": self.url(f"/oid4vci/offers/{offer.id}/qr?format=svg"),
                "png": self.url(f"/oid4vci/offers/{offer.id}/qr?format=png"),
            },
            "expiresAt": datetime.fromtimestamp(offer.expires_at, self.svc.clock.now().tzinfo)
            .isoformat()
            .replace("+00:00", "Z"),
            "deferred": offer.deferred,
        }
        if created.tx_code is not None:
            out["txCode"] = created.tx_code
        return out

    def approve(self, issuer_id: str, offer_id: str) -> dict[str, Any]:
        """An agency approves a deferred offer (its own only)."""
        offer = self.store.get_offer(offer_id)
        if offer is None or offer.issuer_id != issuer_id:
            raise NotFoundError("no such credential offer of this agency")
        if not offer.deferred:
            raise ConflictError("this offer does not wait for approval")
        if not offer.approved:
            self.store.replace_offer(offer, offer.next(approved=True))
            events.info(
                "deferred credential approved",
                extra={"fields": {"event": "oid4vci.approved", "type": offer.type_name}},
            )
        return {"offerId": offer.id, "approved": True}

    # -- token endpoint -----------------------------------------------------------------

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """Token Request (OID4VCI §6, RFC 6749 §4.1.3): an access token bound to the offer."""
        grant = form.get("grant_type")
        if grant is None:
            raise oe.InvalidRequest("grant_type is required")
        if grant == AUTHORIZATION_CODE_GRANT:
            from service.oid4vci_authorize import code_token  # the authorization code flow

            return code_token(self, form)
        if grant != PRE_AUTHORIZED_GRANT:
            raise oe.UnsupportedGrantType(f"grant_type {grant[:100]!r} is not supported")
        code = form.get("pre-authorized_code")
        if not code:
            raise oe.InvalidRequest("pre-authorized_code is required")
        offer = self.store.offer_by_code(digest(code))
        if offer is None or not offer.pre_authorized:
            raise oe.InvalidGrant("unknown pre-authorized code")
        outcome = redeem(offer, form.get("tx_code"), self.now())
        if outcome.next is not offer:
            try:
                self.store.replace_offer(offer, outcome.next)
            except ConflictError:
                raise oe.InvalidGrant("the pre-authorized code was used concurrently") from None
        if outcome.error is not None:
            events.info(
                "token request refused",
                extra={"fields": {"event": "oid4vci.token_refused", "error": outcome.error.error}},
            )
            raise outcome.error
        token = secret_token(self.random)
        lifetime = self.settings.oid4vci_token_seconds
        self.store.add_token(AccessToken(digest(token), offer.id, self.now() + lifetime))
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}

    def offer_of(self, bearer: str | None) -> Offer:
        """The offer an access token was granted for, or ``invalid_token``: an absent,
        unknown, expired or revoked token (RFC 6750 §3.1). The endpoints call it before they
        read the body, so a bad token is 401 whatever the body holds."""
        if not bearer:
            raise oe.InvalidToken("an access token is required")
        token = self.store.find_token(digest(bearer), self.now())
        offer = self.store.get_offer(token.offer_id) if token is not None else None
        if offer is None:
            raise oe.InvalidToken("the access token is unknown, expired or revoked")
        return offer

    # -- nonce endpoint -----------------------------------------------------------------

    def nonce(self) -> str:
        """A fresh ``c_nonce`` (OID4VCI §7), remembered for the configured lifetime."""
        value = secret_token(self.random)
        self.store.add_nonce(value, self.now() + self.settings.oid4vci_nonce_seconds)
        return value

    # -- credential endpoint ------------------------------------------------------------

    def _requested(self, offer: Offer, body: Any) -> str:
        if not isinstance(body, dict):
            raise oe.InvalidCredentialRequest("the Credential Request is a JSON object")
        authorized = offer.authorized or {}
        identifiers = authorized.get("credential_identifiers") or []
        if "credential_identifier" in body and not identifiers:
            raise oe.UnknownCredentialIdentifier("this issuer issues no credential identifiers")
        if identifiers:  # OID4VCI §8.2: named by the identifiers of the Token Response
            if "credential_configuration_id" in body:
                raise oe.InvalidCredentialRequest("credential_identifier was issued: use it")
            config = body.get("credential_identifier")
            if not isinstance(config, str) or config not in identifiers:
                raise oe.UnknownCredentialIdentifier("the access token has no such identifier")
        else:
            config = body.get("credential_configuration_id")
        if not isinstance(config, str):
            raise oe.InvalidCredentialRequest("credential_configuration_id is required")
        if config not in authorized.get("configuration_ids", offer.configuration_ids):
            raise oe.UnknownCredentialConfiguration(
                "the access token's offer does not include this credential configuration"
            )
        if config in offer.issued or (offer.pending or {}).get("configuration_id") == config:
            raise oe.CredentialRequestDenied("this credential was already requested")
        if "proof" in body:
            raise oe.InvalidCredentialRequest("use proofs (OID4VCI 1.0 §8.2), not proof")
        return config

    def proof_methods(self) -> MethodResolver:
        """What a key proof's ``kid`` may name besides a did:key: a key of a did:cityid
        document (the city's own registry; no network). Other methods (did:web) are not
        dereferenced at the credential endpoint."""
        methods = self.svc.verification.resolver.methods
        return MethodResolver({m: methods[m] for m in ("key", CITYID) if m in methods})

    def _holder(self, offer: Offer, body: dict[str, Any], config: str) -> dict[str, Any]:
        proofs = body.get("proofs")
        jwts = proofs.get("jwt") if isinstance(proofs, dict) and len(proofs) == 1 else None
        if not isinstance(jwts, list) or len(jwts) != 1:
            raise oe.InvalidProof("proofs carries exactly one jwt key proof")
        proof = verify_proof(
            jwts[0], audience=self.issuer_id, now=self.now(), max_age=PROOF_MAX_AGE,
            methods=self.proof_methods(),
        )  # fmt: skip
        if proof.nonce is None:
            raise oe.InvalidProof("the proof carries no nonce")
        if offer.subject is not None and proof.did != offer.subject:
            raise oe.InvalidProof("the proof key is not the key of the citizen offered to")
        if config.endswith(FORMATS[LDP_VC]) and proof.did is None:
            raise oe.InvalidProof("an ldp_vc is bound to a DID: name its key as kid")
        if not self.store.take_nonce(proof.nonce, self.now()):
            raise oe.InvalidNonce("the proof nonce was not issued here, was used, or expired")
        jwk = proof.holder.to_dict()
        did = proof.did or "did:jwk:" + b64url(jcs(jwk))  # a jwk-bound holder's DID
        return {"jwk": jwk, "did": did}

    async def credential(self, offer: Offer, body: Any) -> tuple[int, dict[str, Any]]:
        """Credential Request (OID4VCI §8) on the token's ``offer`` (:meth:`offer_of`):
        (status, response). Every check runs before the configuration is claimed on the
        offer (compare-and-set) and issued."""
        config = self._requested(offer, body)
        holder = self._holder(offer, body, config)
        if offer.deferred and not offer.approved:
            transaction = secret_token(self.random)
            pending = {**(offer.pending or {}), "configuration_id": config, "holder": holder}
            self._claim(offer, offer.next(transaction_id=transaction, pending=pending))
            return 202, {"transaction_id": transaction, "interval": DEFERRED_INTERVAL}
        claimed = offer.next(issued=(*offer.issued, config))
        self._claim(offer, claimed)
        return 200, await self._issue(claimed, config, holder)

    def _claim(self, offer: Offer, new: Offer) -> None:
        try:
            self.store.replace_offer(offer, new)
        except ConflictError:
            raise oe.CredentialRequestDenied("the offer changed meanwhile; retry") from None

    async def _issue(self, offer: Offer, config: str, holder: dict[str, Any]) -> dict[str, Any]:
        from service.routers.credentials import issue_credential  # the one issuance path

        issuer = self.svc.trust.issuer(offer.issuer_id)
        subject: dict[str, Any] = dict(offer.claims)
        if holder.get("did"):
            subject["id"] = holder["did"]
        try:
            if config.endswith(FORMATS[SD_JWT]):
                credential: dict[str, Any] = {
                    "type": ["VerifiableCredential", offer.type_name],
                    "credentialSubject": subject,
                }
                if offer.valid_until:
                    credential["validUntil"] = offer.valid_until
                issued = await self.svc.issuance.sdjwt.issue(
                    issuer, {"credential": credential, "options": {"cnf": {"jwk": holder["jwk"]}}}
                )
                value: Any = issued["credential"]
            else:
                document: dict[str, Any] = {
                    "@context": [VC_V2],
                    "type": ["VerifiableCredential", offer.type_name],
                    "issuer": issuer.did,
                    "credentialSubject": subject,
                }
                if offer.valid_until:
                    document["validUntil"] = offer.valid_until
                suite = (offer.pending or {}).get("cryptosuite", self.settings.default_cryptosuite)
                issued = await issue_credential(
                    self.svc, issuer, {"credential": document, "options": {"cryptosuite": suite}}
                )
                value = issued["verifiableCredential"]
        except IdentityError as exc:
            self._release(offer, config)
            if isinstance(exc, UnavailableError):
                raise  # a store outage stays a 503 problem (retry later)
            detail = f"the credential was not issued: {exc.detail}"
            raise oe.CredentialRequestDenied(detail) from exc
        done = self.store.get_offer(offer.id) or offer
        with suppress(ConflictError):  # informational: the record and its leaf are written
            self.store.replace_offer(
                done, done.next(credential_ids=(*done.credential_ids, issued["credentialId"]))
            )
        events.info(
            "credential issued through OpenID4VCI",
            extra={"fields": {"event": "oid4vci.issued", "configuration": config}},
        )
        return {
            "credentials": [{"credential": value}],
            "notification_id": self.notification_id(offer),
        }

    def _release(self, offer: Offer, config: str) -> None:
        """Give the configuration back after a refused issuance (best effort)."""
        current = self.store.get_offer(offer.id)
        if current is not None:
            issued = tuple(c for c in current.issued if c != config)
            with suppress(ConflictError, UnavailableError):
                self.store.replace_offer(current, current.next(issued=issued))

    # -- deferred and notification ------------------------------------------------------

    async def deferred(self, offer: Offer, body: Any) -> tuple[int, dict[str, Any]]:
        """Deferred Credential Request (OID4VCI §9) on the token's ``offer``: pending (202)
        or the credential."""
        transaction = body.get("transaction_id") if isinstance(body, dict) else None
        if not isinstance(transaction, str):
            raise oe.InvalidCredentialRequest("transaction_id is required")
        if offer.transaction_id is None or not hmac.compare_digest(
            transaction, offer.transaction_id
        ):
            raise oe.InvalidTransactionId("unknown or already answered transaction_id")
        if not offer.approved:
            return 202, {"transaction_id": transaction, "interval": DEFERRED_INTERVAL}
        pending = offer.pending or {}
        config = str(pending["configuration_id"])
        claimed = offer.next(
            transaction_id=None,
            issued=(*offer.issued, config),
            pending={k: v for k, v in pending.items() if k == "cryptosuite"},
        )
        self._claim(offer, claimed)
        return 200, await self._issue(claimed, config, pending["holder"])

    def notification_id(self, offer: Offer) -> str:
        """The ``notification_id`` of an offer's credentials (derived, not stored)."""
        mac = hmac.new(self.code_key, b"notification\x00" + offer.id.encode(), hashlib.sha256)
        return secret_token(lambda _: mac.digest()[:16])

    def notification(self, offer: Offer, body: Any) -> None:
        """Notification Request (OID4VCI §11) on the token's ``offer``: logged as an
        ``oid4vci.notification`` event."""
        if not isinstance(body, dict) or not isinstance(body.get("notification_id"), str):
            raise oe.InvalidNotificationRequest("notification_id is required")
        event = body.get("event")
        if event not in NOTIFICATION_EVENTS:
            raise oe.InvalidNotificationRequest(f"event is one of {NOTIFICATION_EVENTS}")
        if not offer.issued or not hmac.compare_digest(
            body["notification_id"], self.notification_id(offer)
        ):
            raise oe.InvalidNotificationId("unknown notification_id")
        events.info(
            "wallet notification",
            extra={
                "fields": {
                    "event": "oid4vci.notification",
                    "notification": event,
                    "type": offer.type_name,
                }
            },
        )

    def close(self) -> None:
        """Close the OID4VCI store."""
        self.store.close()


def build_oid4vci(svc: Services) -> Oid4vciIssuer:
    """The OID4VCI capability over ``svc`` (held at ``app.state.oid4vci``)."""
    key = hashlib.blake2b(
        svc.settings.master_secret_bytes(), digest_size=32, person=b"identity-oid4vc"
    ).digest()
    return Oid4vciIssuer(svc, oid4vci_store_beside(svc.store, svc.settings), key)
