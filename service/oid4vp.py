"""OpenID4VP 1.0 verifier in the running service (issue #18 part 2): one object,
:class:`Oid4vpVerifier`, built in ``create_app``'s lifespan from ``Services``' parts and
held at ``app.state.oid4vp``.

* Signed requests: ``client_id`` ``decentralized_identifier:<did:key>`` -- the service's
  verifier key, derived from the master secret (its own BLAKE2b personalisation), so
  every replica signs with the same key and a wallet resolves it from the DID alone.
* The ``vp_token`` (§8.1: an object from Credential Query id to an array of
  presentations) is verified with the service's own verifiers: SD-JWT VCs by
  :meth:`service.sdjwt.SdJwtVcService.verify` with key binding to the request's nonce and
  the full ``client_id`` (§B.3.6); Data Integrity presentations by
  :func:`identity.credentials.presentations.verify_presentation` with challenge = nonce
  and domain = ``client_id`` (§B.1.3.2.5). Then the disclosed claims must answer the
  DCQL query; only then is the request answered (compare-and-set, so exactly once).
* A refused response (bad input or a presentation that does not verify or answer the
  query) is kept on the open request as a refusal -- the §8.5 error code, its sentence
  and the failed check, exactly what the wallet was told, never the token -- so the
  verifier's result shows it at once; its status, nonce and single use are untouched
  and the request stays open for a correct answer until it expires (docs/oid4vp.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from identity.clock import Clock
from identity.credentials.presentations import PresentationNotVerified, verify_presentation
from identity.dids.key import did_from_key
from identity.errors import IdentityError, InputError, MalformedValueError, VerificationError
from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey
from identity.oid4vp import dcql
from identity.oid4vp.errors import (
    Oid4vpError,
    PresentationMismatchError,
    PresentationRequestNotFoundError,
    PresentationRequestStateError,
)
from identity.oid4vp.requests import (
    DID_PREFIX,
    REDIRECT_PREFIX,
    PresentationRequest,
    PresentationRequestStore,
    authorization_parameters,
    request_object,
)
from identity.storage.memory import MemoryStore
from identity.storage.memory_oid4vp import MemoryPresentationRequestStore
from identity.storage.redis import RedisStore
from identity.storage.redis_oid4vp import beside
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_oid4vp import SqlitePresentationRequestStore
from identity.stores import Store
from service.problems import check_result

DEFAULT_TTL_S = 300
MAX_TTL_S = 3600
MAX_VP_TOKEN = 64 * 1024


def wallet_uri(request: PresentationRequest, request_uri: str, *, post: bool = False) -> str:
    """The ``openid4vp://`` URI a QR code or link carries: by reference when signed
    (``request_uri``, with ``request_uri_method=post`` when offered), by value when not."""
    if request.signed:
        params: dict[str, str] = {"client_id": request.client_id, "request_uri": request_uri}
        if post:
            params["request_uri_method"] = "post"
    else:
        params = {
            k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
            for k, v in authorization_parameters(request).items()
        }
    return "openid4vp://?" + urlencode(params)


def verifier_key(master_secret: bytes) -> Ed25519PrivateKey:
    """The service's OpenID4VP verifier key (the same on every replica)."""
    return Ed25519PrivateKey(
        hashlib.blake2b(master_secret, digest_size=32, person=b"oid4vp-verifier").digest()
    )


def request_store_beside(store: Store) -> PresentationRequestStore:
    """The request store in the same database as ``store``."""
    if isinstance(store, SqliteStore):
        return SqlitePresentationRequestStore(store.path, synchronous=store.synchronous)
    if isinstance(store, RedisStore):
        return beside(store)
    if isinstance(store, MemoryStore):
        return MemoryPresentationRequestStore()
    return MemoryPresentationRequestStore()


@dataclass
class Oid4vpVerifier:
    """Create, serve and answer presentation requests; see the module docstring."""

    requests: PresentationRequestStore
    clock: Clock
    public_url: str
    key: Ed25519PrivateKey
    services: Any  # service.container.Services: sdjwt, registry, resolver, verifier

    @property
    def did(self) -> str:
        """The verifier's DID (did:key of its key)."""
        return did_from_key(self.key.public_key())

    @property
    def kid(self) -> str:
        """The verification method that signs request objects."""
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    def _base(self) -> str:
        return self.public_url.rstrip("/")

    def request_uri(self, request_id: str) -> str:
        """Where the wallet fetches the signed request object."""
        return f"{self._base()}/oid4vp/requests/{request_id}/request.jwt"

    # -- create ---------------------------------------------------------------------------

    def create(self, owner: str, body: dict[str, Any]) -> PresentationRequest:
        """A new request from ``{"dcql_query", "signed"?, "redirectUri"?, "expiresIn"?}``."""
        query = dcql.parse_query(body.get("dcql_query"))
        signed = body.get("signed", True)
        redirect = body.get("redirectUri")
        ttl = body.get("expiresIn", DEFAULT_TTL_S)
        accredited = body.get("requireAccreditedIssuer", True)
        if not isinstance(signed, bool):
            raise MalformedValueError("signed must be a boolean", field="signed")
        if not isinstance(accredited, bool):
            raise MalformedValueError(
                "requireAccreditedIssuer must be a boolean", field="requireAccreditedIssuer"
            )
        if redirect is not None and (
            not isinstance(redirect, str) or not redirect.startswith(("https://", "http://"))
        ):
            raise MalformedValueError("redirectUri must be an http(s) URL", field="redirectUri")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 30 <= ttl <= MAX_TTL_S:
            raise MalformedValueError(f"expiresIn is 30..{MAX_TTL_S} seconds", field="expiresIn")
        request_id = secrets.token_urlsafe(18)
        response_uri = f"{self._base()}/oid4vp/responses/{request_id}"
        now = self.clock.now().replace(microsecond=0)
        request = PresentationRequest(
            id=request_id,
            owner=owner,
            client_id=DID_PREFIX + self.did if signed else REDIRECT_PREFIX + response_uri,
            response_uri=response_uri,
            nonce=secrets.token_urlsafe(24),
            state=secrets.token_urlsafe(18),
            dcql_query=query.raw,
            signed=signed,
            redirect_uri=redirect,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            require_accredited=accredited,
        )
        self.requests.create(request)
        return request

    def view(self, request: PresentationRequest) -> dict[str, Any]:
        """What the verifier API shows of a request (never the response code)."""
        uri = self.request_uri(request.id)
        out: dict[str, Any] = {
            "id": request.id,
            "status": request.status,
            "client_id": request.client_id,
            "nonce": request.nonce,
            "expires": request.expires_at.isoformat(),
            "dcql_query": request.dcql_query,
            "requireAccreditedIssuer": request.require_accredited,
            "authorizationRequest": wallet_uri(request, uri, post=request.signed),
            "qr": f"{self._base()}/oid4vp/requests/{request.id}/qr",
            "result": f"{self._base()}/oid4vp/requests/{request.id}/result",
        }
        if request.signed:
            out["request_uri"] = uri
        return out

    # -- look up --------------------------------------------------------------------------

    def get(self, request_id: str) -> PresentationRequest:
        """The request, or :class:`PresentationRequestNotFoundError`."""
        request = self.requests.get(request_id)
        if request is None:
            raise PresentationRequestNotFoundError("no such presentation request")
        return request

    def owned(self, request_id: str, owner: str) -> PresentationRequest:
        """The request when ``owner`` created it; another's is not found (no leak)."""
        request = self.get(request_id)
        if request.owner != owner:
            raise PresentationRequestNotFoundError("no such presentation request")
        return request

    # -- the wallet fetches ---------------------------------------------------------------

    def fetch(self, request_id: str, wallet_nonce: str | None = None) -> str:
        """The signed request object; the request moves created -> fetched. A request
        already answered or expired, or an unsigned one, is refused (nothing changes)."""
        request = self.get(request_id)
        now = self.clock.now()
        if not request.signed:
            raise PresentationRequestStateError("this request is passed by value, not by reference")
        if request.expired(now):
            raise PresentationRequestStateError("the presentation request has expired")
        if request.status == "answered":
            raise PresentationRequestStateError("the presentation request was already answered")
        if request.status == "created" and not self.requests.advance(
            request.advanced("fetched"), "created"
        ):
            request = self.get(request_id)
            if request.status != "fetched":
                raise PresentationRequestStateError("the presentation request was already used")
        signer = SigningKey.from_ed25519(self.key)
        return request_object(
            request, signer, self.kid, now=int(now.timestamp()), wallet_nonce=wallet_nonce
        )

    # -- the wallet answers ---------------------------------------------------------------

    async def answer(self, request_id: str, form: dict[str, str]) -> dict[str, Any]:
        """Handle a ``direct_post`` (§8.2): verify and record, or raise an
        :class:`Oid4vpError` (nothing answered; the router keeps it as a refusal with
        :meth:`refuse`). Returns the JSON the wallet gets."""
        request = self.get(request_id)
        now = self.clock.now()
        if request.expired(now):
            raise PresentationRequestStateError("the presentation request has expired")
        if request.status == "answered":
            raise PresentationRequestStateError("the presentation request was already answered")
        if form.get("state") != request.state:
            raise Oid4vpError("state does not match the request", field="state")
        if "error" in form:  # §8.5: the wallet declines (e.g. access_denied)
            result = {
                "verified": False,
                "error": form["error"][:64],
                "error_description": form.get("error_description", "")[:300],
            }
        else:
            result = await self._verify_token(request, form.get("vp_token"))
        code = secrets.token_urlsafe(24) if request.redirect_uri else None
        answered = request.advanced(
            "answered", result={**result, "answeredAt": now.isoformat()}, response_code=code
        )
        if not self.requests.advance(answered, request.status):
            raise PresentationRequestStateError("the presentation request was already answered")
        if request.redirect_uri is None:
            return {}
        sep = "&" if "#" in request.redirect_uri else "#"
        return {"redirect_uri": f"{request.redirect_uri}{sep}response_code={code}"}

    async def _verify_token(self, request: PresentationRequest, raw: str | None) -> dict[str, Any]:
        if not isinstance(raw, str) or not raw or len(raw) > MAX_VP_TOKEN:
            raise Oid4vpError("vp_token is required", field="vp_token")
        try:
            token = json.loads(raw)
        except ValueError:
            raise Oid4vpError("vp_token is a JSON object (§8.1)", field="vp_token") from None
        if not isinstance(token, dict) or not token:
            raise Oid4vpError("vp_token is a JSON object (§8.1)", field="vp_token")
        query = dcql.parse_query(request.dcql_query)
        credentials: dict[str, list[dict[str, Any]]] = {}
        for query_id, presentations in token.items():
            credential_query = query.by_id(query_id)
            if credential_query is None:
                raise PresentationMismatchError(f"{query_id!r} is not in the DCQL query")
            if not isinstance(presentations, list) or not presentations:
                raise Oid4vpError("each vp_token entry is a non-empty array", field="vp_token")
            if len(presentations) > 1 and not credential_query.multiple:
                raise PresentationMismatchError(f"{query_id!r} allows one presentation")
            credentials[query_id] = [
                await self._verify_one(request, credential_query, p) for p in presentations
            ]
        missing = dcql.required_ids(query, set(credentials))
        if missing:
            raise PresentationMismatchError(
                f"the response does not answer the required queries: {', '.join(missing)}",
                missing=missing,
            )
        return {"verified": True, "credentials": credentials}

    async def _verify_one(
        self, request: PresentationRequest, query: dcql.CredentialQuery, presentation: Any
    ) -> dict[str, Any]:
        if query.format == dcql.SD_JWT_FORMAT:
            claims, meta, report = self._sd_jwt(request, presentation)
        else:
            claims, meta, report = await self._ldp(request, presentation)
        if not dcql.meta_matches(query, meta):
            raise PresentationMismatchError(
                f"the credential for {query.id!r} is not of a requested type"
            )
        answered = dcql.satisfied_claims(query, claims)
        if answered is None:
            raise PresentationMismatchError(
                f"the credential for {query.id!r} does not disclose every required claim",
                query=query.id,
            )
        if query.format == dcql.SD_JWT_FORMAT:  # an asked, always-disclosed claim is shown too
            asked = {c.path[0] for c in answered if c.path and isinstance(c.path[0], str)}
            names = sorted(asked | set(report["claims"]))
            report["claims"] = {k: claims[k] for k in names if k in claims}
        return {"format": query.format, **report}

    def _sd_jwt(
        self, request: PresentationRequest, presentation: Any
    ) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        body = {
            "credential": presentation,
            "options": {
                "keyBinding": {"nonce": request.nonce, "audience": request.client_id},
                "requireAccreditedIssuer": request.require_accredited,
            },
        }
        try:
            verified = self.services.issuance.sdjwt.verify(body)
        except IdentityError as exc:
            raise PresentationMismatchError(
                f"the SD-JWT VC presentation did not verify: {exc.detail}", cause=exc.type_uri
            ) from exc
        claims = verified["claims"]
        return (
            claims,
            {"vct": claims.get("vct")},
            {
                "issuer": verified["issuer"],
                "vct": claims.get("vct"),
                "claims": {k: claims[k] for k in _top_level(verified["disclosed"]) if k in claims},
                "disclosed": verified["disclosed"],
                "results": verified["results"],  # each check, as POST /credentials/sd-jwt/verify
            },
        )

    async def _ldp(
        self, request: PresentationRequest, presentation: Any
    ) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        svc = self.services
        try:
            verified = await asyncio.to_thread(
                verify_presentation,
                presentation,
                registry=svc.verification.registry,
                resolver=svc.verification.resolver,
                verifier=svc.verification.verifier,
                challenge=request.nonce,
                domain=request.client_id,
                options={"requireAccreditedIssuer": request.require_accredited},
            )
        except (PresentationNotVerified, IdentityError) as exc:
            raise PresentationMismatchError(
                f"the presentation did not verify: {exc.detail}", cause=exc.type_uri
            ) from exc
        if len(verified.credentials) != 1:
            raise PresentationMismatchError("an ldp_vp answers one Credential Query with one VC")
        credential = verified.credentials[0].credential.json
        checks = verified.credentials[0].checks
        return (
            credential,
            {"type": credential.get("type")},
            {
                "issuer": verified.credentials[0].credential.issuer,
                "holder": verified.holder,
                "type": credential.get("type"),
                "claims": credential.get("credentialSubject"),
                "results": {c.name: check_result(c) for c in checks},  # as POST /credentials/verify
            },
        )

    def refuse(self, request_id: str, exc: IdentityError) -> None:
        """Keep the refusal ``exc`` (what the wallet was told, :func:`refusal_of`) on the
        open request; nothing for an unknown, answered or expired request, a state error
        (a replay of an answered request) or a failing store (the wallet's answer stands)."""
        if not isinstance(exc, (InputError, VerificationError)):
            return
        now = self.clock.now()
        try:
            request = self.requests.get(request_id)
            if request is None or request.status == "answered" or request.expired(now):
                return
            self.requests.refuse(request_id, refusal_of(exc, now))
        except IdentityError:
            return

    # -- the verifier reads the result ----------------------------------------------------

    def result(self, request_id: str, owner: str, response_code: str | None) -> dict[str, Any]:
        """The request's status and, once answered, its result. A same-device request
        (with a redirect) releases its result only with its ``response_code``."""
        request = self.owned(request_id, owner)
        same_device = request.redirect_uri is not None and request.status == "answered"
        if same_device and not secrets.compare_digest(
            response_code or "", request.response_code or "-"
        ):
            raise Oid4vpError(
                "this same-device request's result needs its response_code",
                field="response_code",
            )
        out: dict[str, Any] = {"id": request.id, "status": request.status}
        if request.status != "answered" and request.expired(self.clock.now()):
            out["status"] = "expired"
        if request.result is not None:
            out.update(request.result)
        if request.refused_count:
            out["refusedCount"] = request.refused_count
            out["refusals"] = list(request.refusals)
        return out


REFUSAL_DATA = ("field", "query", "missing", "cause")


def refusal_of(exc: IdentityError, now: datetime) -> dict[str, Any]:
    """The refusal kept for ``exc``: the §8.5 ``error`` and ``error_description`` of the
    wallet's error response, ``check`` (the problem type of the failed check) and the
    structured fields naming it (``field``, ``query``, ``missing``, ``cause``)."""
    out: dict[str, Any] = {
        "error": getattr(exc, "oauth_error", "invalid_request"),
        "error_description": exc.detail[:300],
        "check": exc.type_uri,
        "refusedAt": now.isoformat(),
    }
    for name in REFUSAL_DATA:
        value = exc.data.get(name)
        if isinstance(value, str):
            out[name] = value[:200]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[name] = [v[:200] for v in value[:20]]
    return out


def _top_level(paths: list[str]) -> list[str]:
    """``a.b`` and ``a[0]`` -> ``a``: the top-level claims that hold what was disclosed."""
    return sorted({p.split(".")[0].split("[")[0] for p in paths})


def build_oid4vp(svc: Any) -> Oid4vpVerifier:
    """The verifier over ``svc`` (``Services``), its store beside the main store."""
    return Oid4vpVerifier(
        request_store_beside(svc.store),
        svc.clock,
        svc.settings.public_url,
        verifier_key(svc.settings.master_secret_bytes()),
        svc,
    )
