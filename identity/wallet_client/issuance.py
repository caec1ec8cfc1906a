"""The wallet side of OpenID4VCI 1.0's pre-authorized code flow, without I/O (the
authorization code flow: :mod:`identity.wallet_client.authorization`).

1. (service/wallet_cli.py parses the ``openid-credential-offer://`` URI and fetches)
2. :func:`parse_offer` -- the Credential Offer, checked;
3. :func:`token_form` -- the Token Request body (§6.1);
4. :func:`key_proof` -- an ``openid4vci-proof+jwt`` over the ``c_nonce`` (Appendix F.1);
5. :func:`credential_request` -- the Credential Request (§8.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from identity.errors import MalformedValueError
from identity.jose.jws import sign_compact
from identity.jose.keys import SigningKey

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"


@dataclass(frozen=True, slots=True)
class CredentialOffer:
    """A parsed Credential Offer (§4.1.1) with its grants: the pre-authorized code
    (None when not offered) and the authorization code's ``issuer_state``."""

    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str | None
    tx_code: dict[str, Any] | None
    issuer_state: str | None = None


def parse_offer(value: Any) -> CredentialOffer:
    """Check a Credential Offer has an issuer, configurations and a pre-authorized code
    or an authorization code grant."""
    if not isinstance(value, dict):
        raise MalformedValueError("a credential offer is a JSON object")
    issuer, ids = value.get("credential_issuer"), value.get("credential_configuration_ids")
    grants = value.get("grants") or {}
    grant, code_grant = grants.get(PRE_AUTHORIZED_GRANT), grants.get("authorization_code")
    if not isinstance(issuer, str) or not isinstance(ids, list) or not ids:
        raise MalformedValueError("the offer names a credential_issuer and configurations")
    state = code_grant.get("issuer_state") if isinstance(code_grant, dict) else None
    if isinstance(grant, dict) and isinstance(grant.get("pre-authorized_code"), str):
        code, tx_code = grant["pre-authorized_code"], grant.get("tx_code")
    elif isinstance(state, str):
        code, tx_code = None, None
    else:
        raise MalformedValueError("the offer has no pre-authorized code or authorization grant")
    return CredentialOffer(
        issuer, tuple(ids), code, tx_code, state if isinstance(state, str) else None
    )


def token_form(offer: CredentialOffer, pin: str | None) -> dict[str, str]:
    """The Token Request parameters (§6.1); ``pin`` only when the offer asks for one."""
    if offer.pre_authorized_code is None:
        raise MalformedValueError("this offer has no pre-authorized code")
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.pre_authorized_code}
    if offer.tx_code is not None:
        if pin is None:
            raise MalformedValueError("this offer needs the transaction code (PIN)")
        form["tx_code"] = pin
    return form


def key_proof(
    key: SigningKey, *, audience: str, nonce: str, issued_at: int, kid: str | None = None
) -> str:
    """An ``openid4vci-proof+jwt``: the public key as ``jwk``, or ``kid`` (a did:key URL)."""
    header: dict[str, Any] = {"typ": PROOF_TYP}
    if kid is None:
        header["jwk"] = key.public_jwk.to_dict()
    else:
        header["kid"] = kid
    return sign_compact(header, {"aud": audience, "iat": issued_at, "nonce": nonce}, key)


def credential_request(configuration_id: str, proof: str) -> dict[str, Any]:
    """The Credential Request body (§8.2) with one ``jwt`` proof."""
    return {"credential_configuration_id": configuration_id, "proofs": {"jwt": [proof]}}
