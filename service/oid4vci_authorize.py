"""The authorization code flow of OpenID4VCI 1.0 §5 for a citizen who signs in with
their DID (RFC 6749 §4.1, PKCE S256 per RFC 7636, ``iss`` per RFC 9207).

1. :func:`start` -- the Authorization Request (``GET /oid4vci/authorize``): checked,
   stored as a pending :class:`~identity.oid4vci.authorization.Authorization`, with a
   single-use challenge of purpose ``authorization_purpose(request id)``;
2. :func:`sign_in` -- the citizen's DID-auth presentation over that challenge (from the
   sign-in page or POSTed by a wallet holding the DID key): it must verify, name this
   service's domain and be the offer's ``subject``; then a code (stored as SHA-256) and
   the redirect ``redirect_uri?code&state&iss``;
3. :func:`code_token` -- ``grant_type=authorization_code`` at the Token Endpoint: code,
   ``redirect_uri``, ``client_id`` and ``code_verifier`` checked; the request and the
   offer are each redeemed by compare-and-set (of two redemptions one wins), and the
   access token is bound to the offer, which records the DID that signed in. A code
   presented after it was redeemed revokes that token (:func:`replayed`).

Errors before ``client_id`` and ``redirect_uri`` are known good are never redirected
(RFC 6749 §4.1.2.1): :class:`Refusal` with ``redirect=None``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from identity.credentials.presentations import verify_presentation
from identity.errors import ConflictError, InvalidDomainError, MalformedValueError
from identity.oid4vci import authorization as authz
from identity.oid4vci import errors as oe
from identity.oid4vci.authorization import (
    CHALLENGE,
    DENIED,
    PENDING,
    Authorization,
    authorization_purpose,
    grant,
    redeem_code,
)
from identity.oid4vci.offer import OFFERED, REDEEMED, Offer, digest, secret_token
from identity.oid4vci.store import AccessToken
from service.challenges import CHALLENGE_TTL
from service.offline import run_verification
from service.oid4vci import Oid4vciIssuer, events

MAX_PARAMETER = 4096
LOOPBACK_HOSTS = ("localhost",)
#: never in an allowed redirect URI: a fragment (RFC 6749 §3.1.2), space, control,
#: quote, backslash, angle bracket, or CSP separators (``;`` ``,``)
UNSAFE = re.compile(r"[#\s\x00-\x1f\x7f\"'\\<>;,]")


class Refusal(Exception):
    """An Authorization Request refused: ``error`` to send to ``redirect`` (the client's
    validated redirect URI, with ``state`` and ``iss``), or -- ``redirect`` None -- to
    show the person (page or problem+json), never redirected."""

    def __init__(self, error: oe.Oid4vciError, redirect: str | None, state: str | None):
        super().__init__(error.detail)
        self.error, self.redirect, self.state = error, redirect, state


@dataclass(frozen=True, slots=True)
class Started:
    """A pending Authorization Request and what its citizen signs (the challenge)."""

    auth: Authorization
    offer: Offer
    challenge: str
    expires: datetime


def answer_uri(vci: Oid4vciIssuer, redirect_uri: str, params: dict[str, str | None]) -> str:
    """``redirect_uri`` with the response parameters and ``iss`` in its query (RFC 6749
    §4.1.2, RFC 9207 §2), keeping any query it has (§3.1.2)."""
    values = {k: v for k, v in params.items() if v is not None}
    values["iss"] = vci.issuer_id
    return redirect_uri + ("&" if urlsplit(redirect_uri).query else "?") + urlencode(values)


def valid_redirect_uri(uri: str, registered: tuple[str, ...]) -> bool:
    """Whether errors and codes may be sent to ``uri`` (RFC 6749 §3.1.2, RFC 9700 §4.1).

    Absolute, no fragment, and one of: exactly a registered URI; a loopback ``http`` URI
    of a native app (RFC 8252 §7.3); a private-use scheme in reverse-domain form
    (RFC 8252 §7.1, e.g. ``com.example.wallet:/cb``)."""
    if not isinstance(uri, str) or len(uri) > 2000 or UNSAFE.search(uri):
        return False  # also keeps the page's CSP (form-action) free of injected text
    if uri in registered:
        return True
    try:
        parts = urlsplit(uri)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    if (
        parts.scheme == "http"
        and port_ok
        and parts.hostname is not None
        and "@" not in parts.netloc
    ):
        host = parts.hostname
        if host in LOOPBACK_HOSTS:
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return "." in parts.scheme and parts.scheme not in ("http", "https") and bool(parts.path)


def registered(vci: Oid4vciIssuer) -> tuple[str, ...]:
    """The redirect URIs the operator registered (``IDENTITY_OID4VCI_REDIRECT_URIS``)."""
    return tuple(u.strip() for u in vci.settings.oid4vci_redirect_uris.split(",") if u.strip())


def parameters_of(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The request's parameters, each at most once (RFC 6749 §3.1) and of bounded size."""
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise oe.InvalidRequest("a parameter is repeated (RFC 6749 §3.1)")
    if any(len(v) > MAX_PARAMETER for _, v in pairs):
        raise oe.InvalidRequest(f"a parameter exceeds {MAX_PARAMETER} characters")
    return dict(pairs)


def start(vci: Oid4vciIssuer, pairs: list[tuple[str, str]]) -> Started:
    """Check and store an Authorization Request (OID4VCI §5.1, RFC 6749 §4.1.1)."""
    try:
        params = parameters_of(pairs)
        client_id = client_of(vci, params)
    except oe.Oid4vciError as exc:
        raise Refusal(exc, None, None) from None
    if "request_uri" in params:  # RFC 9126 §4: a pushed request (service/oid4vci_par.py)
        from service.oid4vci_par import pushed

        auth, offer = pushed(vci, params["request_uri"], client_id)
    else:
        auth, offer = checked_request(vci, params, client_id)
        vci.store.add_authorization(auth)
    challenge, expires = vci.svc.access.challenges.new(authorization_purpose(auth.id))
    return Started(auth, offer, challenge, expires)


def client_of(vci: Oid4vciIssuer, params: dict[str, str]) -> str:
    """``client_id``, and ``redirect_uri`` allowed (unless a pushed request holds it)."""
    client_id = params.get("client_id", "")
    if not client_id:
        raise oe.InvalidRequest("client_id is required")
    if "request_uri" not in params and not valid_redirect_uri(
        params.get("redirect_uri", ""), registered(vci)
    ):
        raise oe.InvalidRequest("redirect_uri is missing or not allowed")
    return client_id


def checked_request(
    vci: Oid4vciIssuer, params: dict[str, str], client_id: str, status: str = PENDING
) -> tuple[Authorization, Offer]:
    """The Authorization Request of ``params`` checked (not stored yet); a failure is a
    :class:`Refusal` to the (already checked) ``redirect_uri``."""
    redirect_uri, state = params["redirect_uri"], params.get("state")
    try:
        offer, configs, details = _checked(vci, params)
    except oe.Oid4vciError as exc:
        raise Refusal(exc, redirect_uri, state) from None
    now = vci.now()
    auth = Authorization(
        id=secret_token(vci.random),
        offer_id=offer.id,
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=params["code_challenge"],
        state=state,
        configuration_ids=configs,
        details=details,
        expires_at=min(now + int(CHALLENGE_TTL.total_seconds()), offer.expires_at),
        created_at=now,
        status=status,
    )
    return auth, offer


def _checked(vci: Oid4vciIssuer, params: dict[str, str]) -> tuple[Offer, tuple[str, ...], bool]:
    if params.get("response_type") != "code":
        raise oe.UnsupportedResponseType("response_type is code")
    if params.get("code_challenge_method") != "S256":
        raise oe.InvalidRequest("PKCE is required with code_challenge_method S256")
    if not CHALLENGE.fullmatch(params.get("code_challenge", "")):
        raise oe.InvalidRequest("code_challenge is BASE64URL(SHA-256(code_verifier))")
    if "resource" in params and params["resource"] != vci.issuer_id:
        raise oe.InvalidTarget("resource is this Credential Issuer")
    offer = vci.store.get_offer(params.get("issuer_state", ""))
    if offer is None or not offer.authorization_code:
        raise oe.InvalidRequest("issuer_state names no credential offer for this flow")
    if offer.state != OFFERED or vci.now() >= offer.expires_at:
        raise oe.InvalidRequest("the credential offer was used or has expired")
    configs: list[str] = []
    if "scope" in params:
        scopes = {c["scope"]: i for i, c in vci.configurations().items() if "scope" in c}
        for value in params["scope"].split():
            if scopes.get(value) not in offer.configuration_ids:
                raise oe.InvalidScope(f"scope {value[:100]!r} is not one of this offer")
            configs.append(scopes[value])
    if "authorization_details" in params:
        configs += _details(params["authorization_details"], offer)
    if not configs:
        raise oe.InvalidRequest("scope or authorization_details names what to issue")
    return offer, tuple(dict.fromkeys(configs)), "authorization_details" in params


def _details(raw: str, offer: Offer) -> list[str]:
    """``authorization_details`` (RFC 9396 §2): ``openid_credential`` objects with a
    ``credential_configuration_id`` of the offer (OID4VCI §5.1.1)."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, list) or not value:
        raise oe.InvalidAuthorizationDetails("authorization_details is a JSON array")
    out = []
    for item in value:
        if not isinstance(item, dict) or item.get("type") != "openid_credential":
            raise oe.InvalidAuthorizationDetails("each detail has type openid_credential")
        config = item.get("credential_configuration_id")
        if config not in offer.configuration_ids:
            raise oe.InvalidAuthorizationDetails("a detail names no configuration of the offer")
        out.append(str(config))
    return out


def open_request(vci: Oid4vciIssuer, request_id: str) -> Authorization:
    """The pending, unexpired request with this id, or ``invalid_request`` (shown, not
    redirected: nothing says who asked)."""
    auth = vci.store.get_authorization(request_id)
    if auth is None or auth.status != PENDING or vci.now() >= auth.expires_at:
        raise oe.InvalidRequest("no open authorization request here (used or expired)")
    return auth


async def sign_in(vci: Oid4vciIssuer, request_id: str, vp: Any) -> str:
    """The citizen's DID-auth presentation for a pending request -> the redirect URI
    with the code. Raises an :class:`~identity.errors.IdentityError` (nothing changed)
    for a presentation that does not verify; :class:`Refusal` (``access_denied``,
    redirected; the request is then spent) when another DID signed in."""
    auth = open_request(vci, request_id)
    svc, domain = vci.svc, urlsplit(vci.settings.public_url).netloc
    proof = vp.get("proof") if isinstance(vp, dict) else None
    if not isinstance(proof, dict):
        raise MalformedValueError("the presentation needs a proof with a challenge")
    challenge, holder = proof.get("challenge"), vp.get("holder")
    if not isinstance(challenge, str) or not isinstance(holder, str):
        raise MalformedValueError("the presentation needs a holder and a proof with a challenge")
    if proof.get("domain") not in (domain, [domain]):
        raise InvalidDomainError("the proof names this service's domain alone", domain=domain)
    checks = svc.verification
    await run_verification(
        lambda: verify_presentation(vp, registry=checks.registry, resolver=checks.resolver,
                                    verifier=checks.verifier, challenge=challenge, domain=domain)
    )  # fmt: skip
    svc.store.consume_challenge(challenge, authorization_purpose(auth.id), svc.clock.now())
    offer = vci.store.get_offer(auth.offer_id)
    if offer is None or holder != offer.subject:
        _store(vci, auth, auth.next(status=DENIED, did=holder))
        events.info("authorization denied", extra={"fields": {"event": "oid4vci.denied"}})
        error = oe.AccessDenied("this offer is for another citizen")
        raise Refusal(error, auth.redirect_uri, auth.state)
    code = secret_token(vci.random)
    now = vci.now()
    lifetime = vci.settings.oid4vci_auth_code_seconds
    _store(vci, auth, grant(auth, holder, digest(code), now, lifetime))
    events.info("citizen authorized", extra={"fields": {"event": "oid4vci.authorized"}})
    return answer_uri(vci, auth.redirect_uri, {"code": code, "state": auth.state})


def _store(vci: Oid4vciIssuer, current: Authorization, new: Authorization) -> None:
    try:
        vci.store.replace_authorization(current, new)
    except ConflictError:
        raise oe.InvalidRequest("the authorization request was answered meanwhile") from None


def replayed(vci: Oid4vciIssuer, auth: Authorization) -> None:
    """A code presented again after it was redeemed: refused, and the access tokens
    issued from it revoked (RFC 6749 §4.1.2 SHOULD; RFC 9700 §4.2.4 -- the code may
    have leaked). Raises :class:`~identity.oid4vci.errors.InvalidGrant` always. Any
    presentation counts (a wrong verifier too): whoever holds the code is not to be
    trusted with its token. Credentials already issued stay issued."""
    vci.store.revoke_tokens(auth.offer_id)
    events.warning("authorization code replayed: its tokens are revoked",
                   extra={"fields": {"event": "oid4vci.code_replayed"}})  # fmt: skip
    raise oe.InvalidGrant("the authorization code was already used; its tokens are revoked")


def code_token(vci: Oid4vciIssuer, form: dict[str, str]) -> dict[str, Any]:
    """Token Request with ``grant_type=authorization_code`` (OID4VCI §6.1, RFC 6749
    §4.1.3, RFC 7636 §4.5): an access token bound to the offer and the signed-in DID."""
    for name in ("code", "redirect_uri", "client_id", "code_verifier"):
        if not form.get(name):
            raise oe.InvalidRequest(f"{name} is required")
    auth = vci.store.authorization_by_code(digest(form["code"]))
    if auth is None:
        raise oe.InvalidGrant("unknown authorization code")
    if auth.status == authz.REDEEMED:
        replayed(vci, auth)
    now = vci.now()
    redeemed = redeem_code(auth, client_id=form["client_id"], redirect_uri=form["redirect_uri"],
                           verifier=form["code_verifier"], now=now)  # fmt: skip
    offer = vci.store.get_offer(auth.offer_id)
    if offer is None or offer.state != OFFERED or now >= offer.expires_at:
        raise oe.InvalidGrant("the credential offer was used or has expired")
    try:
        vci.store.replace_authorization(auth, redeemed)
    except ConflictError:
        raise oe.InvalidGrant("the authorization code was already used") from None
    identifiers = list(auth.configuration_ids) if auth.details else []
    authorized = {"did": auth.did, "client_id": auth.client_id,
                  "configuration_ids": list(auth.configuration_ids),
                  "credential_identifiers": identifiers}  # fmt: skip
    try:
        vci.store.replace_offer(offer, offer.next(state=REDEEMED, authorized=authorized))
    except ConflictError:
        raise oe.InvalidGrant("the credential offer was redeemed concurrently") from None
    token = secret_token(vci.random)
    lifetime = vci.settings.oid4vci_token_seconds
    vci.store.add_token(AccessToken(digest(token), offer.id, now + lifetime))
    answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer",
                              "expires_in": lifetime}  # fmt: skip
    if auth.details:  # OID4VCI §6.2: the identifiers the Credential Request names
        answer["authorization_details"] = [
            {"type": "openid_credential", "credential_configuration_id": c,
             "credential_identifiers": [c]}
            for c in auth.configuration_ids
        ]  # fmt: skip
    return answer
