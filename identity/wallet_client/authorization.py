"""The wallet side of OpenID4VCI 1.0's authorization code flow (§5) with PKCE, without
I/O: service/wallet_cli.py does the HTTP.

1. :func:`new_pkce` -- a ``code_verifier`` and its S256 ``code_challenge`` (RFC 7636 §4);
2. :func:`authorization_request` -- the Authorization Request parameters (§5.1) with the
   offer's ``issuer_state`` and the configurations' scopes;
3. :func:`did_auth` -- the DID-auth presentation over the request's challenge, signed by
   the wallet's DID key (the citizen signing in);
4. (service/wallet_authorize.py checks the redirect's ``state`` and ``iss``, RFC 9207);
5. :func:`code_token_form` -- the Token Request (RFC 6749 §4.1.3 + ``code_verifier``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity.credentials.presentations import sign_presentation
from identity.encoding import b64url
from identity.errors import MalformedValueError
from identity.keys import Ed25519PrivateKey, RandomBytes
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.wallet_client.issuance import CredentialOffer


@dataclass(frozen=True, slots=True)
class Pkce:
    """A PKCE pair (RFC 7636 §4.1-4.2): the verifier kept, the challenge sent."""

    verifier: str
    challenge: str


def new_pkce(random: RandomBytes) -> Pkce:
    """A 256-bit ``code_verifier`` (43 characters) and its ``S256`` challenge."""
    verifier = b64url(random(32))
    return Pkce(verifier, b64url(hashlib.sha256(verifier.encode("ascii")).digest()))


def authorization_request(
    offer: CredentialOffer,
    metadata: dict[str, Any],
    *,
    client_id: str,
    redirect_uri: str,
    pkce: Pkce,
    state: str,
) -> dict[str, str]:
    """The Authorization Request's parameters (OID4VCI §5.1.2: by ``scope``)."""
    if offer.issuer_state is None:
        raise MalformedValueError("this offer has no authorization code grant")
    configurations = metadata["credential_configurations_supported"]
    scopes = [configurations[c]["scope"] for c in offer.configuration_ids]
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "issuer_state": offer.issuer_state,
        "scope": " ".join(scopes),
        "state": state,
        "resource": offer.credential_issuer,
    }


def did_auth(
    key: Ed25519PrivateKey, did: str, *, challenge: str, domain: str, created: datetime
) -> dict[str, Any]:
    """A DID-auth presentation (``proofPurpose: authentication``, no credentials) by a
    ``did:key`` over the Authorization Request's challenge and the service's domain."""
    return sign_presentation(
        [], holder_key=key, holder_did=did, verification_method=f"{did}#{did[8:]}",
        challenge=challenge, domain=domain, suite=EddsaJcs2022(), created=created,
    )  # fmt: skip


def code_token_form(code: str, *, client_id: str, redirect_uri: str, pkce: Pkce) -> dict[str, str]:
    """The Token Request of the authorization code grant with the PKCE verifier."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": pkce.verifier,
    }
