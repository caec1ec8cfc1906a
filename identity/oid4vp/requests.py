"""Presentation requests (OpenID4VP 1.0 §5): the record a verifier's request lives in,
its state machine (created -> fetched -> answered, each step once), and the request
object (a JWT of ``typ`` ``oauth-authz-req+jwt``, RFC 9101) or the unsigned parameters.

Client identifiers (§5.9): ``decentralized_identifier:<DID>`` for signed requests (the
JWT's ``kid`` names the DID's verification method that signed it) and
``redirect_uri:<response_uri>`` for unsigned ones (§5.9.3: with ``direct_post`` the
Response URI is the client identifier; such a request is never signed).

Refusals: a response the Response Endpoint refuses (§8.2, error per §8.5) is kept on the
open request as a :class:`Refusal` -- the error code, the sentence and the failed check
the wallet was told, never the presented token -- the last :data:`KEEP_REFUSALS` of
them plus a count. A refusal never changes ``status``: the request stays open for a
correct answer until it expires (the nonce is consumed only by a success).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from identity.jose.jws import sign_compact
from identity.jose.keys import SigningKey

REQUEST_TYP = "oauth-authz-req+jwt"
DID_PREFIX = "decentralized_identifier:"
REDIRECT_PREFIX = "redirect_uri:"
SELF_ISSUED = "https://self-issued.me/v2"  # §5.8: aud of a request object
DIRECT_POST = "direct_post"
Status = Literal["created", "fetched", "answered"]
NEXT: dict[str, tuple[str, ...]] = {"created": ("fetched", "answered"), "fetched": ("answered",)}
KEEP_REFUSALS = 5  # refusals kept on a request (the newest); the count goes on
VP_FORMATS = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["EdDSA", "ES256"], "kb-jwt_alg_values": ["EdDSA", "ES256"]},
    "ldp_vc": {"proof_type_values": ["DataIntegrityProof"],
               "cryptosuite_values": ["eddsa-rdfc-2022", "eddsa-jcs-2022"]},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PresentationRequest:
    """One verifier's presentation request and, once answered, its ``result``.

    ``state`` is the OAuth ``state`` sent to the wallet; ``status`` the lifecycle step;
    ``response_code`` (same-device flow, §8.2) is set when answered with a redirect."""

    id: str
    owner: str
    client_id: str
    response_uri: str
    nonce: str
    state: str
    dcql_query: dict[str, Any]
    signed: bool
    redirect_uri: str | None
    created_at: datetime
    expires_at: datetime
    status: Status = "created"
    response_code: str | None = None
    result: dict[str, Any] | None = None
    refusals: tuple[dict[str, Any], ...] = ()
    refused_count: int = 0
    require_accredited: bool = True
    """Refuse a credential whose issuer was not accredited for its type when it was issued
    (the verifier's ``requireAccreditedIssuer``, as on ``POST /credentials/verify``)."""

    def expired(self, now: datetime) -> bool:
        """Whether the request may no longer be fetched or answered."""
        return now >= self.expires_at

    def advanced(self, status: Status, **changes: Any) -> PresentationRequest:
        """This request at its next ``status``; ValueError for a step the machine lacks."""
        if status not in NEXT.get(self.status, ()):
            raise ValueError(f"{self.status} -> {status} is not a step")
        return replace(self, status=status, **changes)

    def refused(self, refusal: dict[str, Any], keep: int = KEEP_REFUSALS) -> PresentationRequest:
        """This request with ``refusal`` appended (only the newest ``keep`` kept, the count
        incremented); ``status`` and everything else unchanged."""
        return replace(
            self,
            refusals=(*self.refusals, refusal)[-keep:],
            refused_count=self.refused_count + 1,
        )

    def with_refusals_of(self, stored: PresentationRequest) -> PresentationRequest:
        """This request carrying ``stored``'s refusals (a step never drops a refusal that
        was recorded after the step's caller read the request)."""
        return replace(self, refusals=stored.refusals, refused_count=stored.refused_count)

    def to_json(self) -> str:
        """The record as JSON (what the stores keep)."""
        data = {f: getattr(self, f) for f in self.__dataclass_fields__}
        data["created_at"] = self.created_at.isoformat()
        data["expires_at"] = self.expires_at.isoformat()
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> PresentationRequest:
        """The record :meth:`to_json` wrote."""
        data = json.loads(text)
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        data["expires_at"] = datetime.fromisoformat(data["expires_at"])
        data["refusals"] = tuple(data.get("refusals", ()))
        return cls(**data)


class PresentationRequestStore(Protocol):
    """Presentation requests by id. Each call is atomic; a failing store raises
    :class:`~identity.errors.UnavailableError` with nothing written. Proved on every
    backend by ``tests/storage/test_oid4vp_contract.py``."""

    def create(self, request: PresentationRequest) -> None:
        """Store a new request; :class:`~identity.errors.ConflictError` if the id exists."""
        ...

    def get(self, request_id: str) -> PresentationRequest | None:
        """The request, or None."""
        ...

    def advance(self, request: PresentationRequest, expected: Status) -> bool:
        """Replace the stored request by ``request`` only if its stored ``status`` is still
        ``expected`` (compare-and-set); False (nothing written) otherwise or when unknown.
        The stored refusals are kept (:meth:`PresentationRequest.with_refusals_of`)."""
        ...

    def refuse(self, request_id: str, refusal: dict[str, Any], keep: int = KEEP_REFUSALS) -> bool:
        """Append ``refusal`` to the stored request (:meth:`PresentationRequest.refused`)
        unless it is unknown or already ``answered`` (then False, nothing written); never
        changes ``status``. Atomic against :meth:`advance`: a success is never undone."""
        ...

    def close(self) -> None:
        """Release connections (a client given by the caller stays open)."""
        ...


def authorization_parameters(request: PresentationRequest) -> dict[str, Any]:
    """The Authorization Request parameters (§5.1) of ``request``."""
    return {
        "client_id": request.client_id,
        "response_type": "vp_token",
        "response_mode": DIRECT_POST,
        "response_uri": request.response_uri,
        "nonce": request.nonce,
        "state": request.state,
        "dcql_query": request.dcql_query,
        "client_metadata": {"vp_formats_supported": VP_FORMATS},
    }


def request_object(
    request: PresentationRequest,
    key: SigningKey,
    kid: str,
    *,
    now: int,
    wallet_nonce: str | None = None,
) -> str:
    """The signed request object (RFC 9101, §5.8 ``aud``, §5.10 ``wallet_nonce``)."""
    claims = {
        **authorization_parameters(request),
        "aud": SELF_ISSUED,
        "iat": now,
        "exp": int(request.expires_at.timestamp()),
    }
    if wallet_nonce is not None:
        claims["wallet_nonce"] = wallet_nonce
    return sign_compact({"typ": REQUEST_TYP, "kid": kid}, claims, key)
