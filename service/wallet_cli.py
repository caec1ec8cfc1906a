"""The reference wallet's HTTP half: ``identity wallet receive <offer-uri> --pin … --dir``.

Resolves an ``openid-credential-offer://`` URI (by value or by reference), runs the
pre-authorized code flow (token with the PIN, nonce, credential with a key proof) -- or,
for an offer with an authorization code grant and no usable pre-authorized code, the
authorization code flow signing in with the folder's DID key (service/wallet_authorize.py,
whose key then also signs the proofs) -- with
the pure request builders of :mod:`identity.wallet_client.issuance`, and keeps each
credential in the folder (:mod:`identity.wallet_client.folder`). The holder key is made
once per folder (``holder-key.jwk``, mode 0600).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import typer

from identity.errors import MalformedValueError
from identity.jose.keys import SigningKey
from identity.wallet_client.folder import HOLDER_KEY_FILE, entry, entry_name
from identity.wallet_client.issuance import (
    credential_request,
    key_proof,
    parse_offer,
    token_form,
)
from service.wallet_authorize import authorization_code_token, did_key
from service.wallet_authorize import ok_json as _ok

OFFER_SCHEME = "openid-credential-offer"
wallet_app = typer.Typer(help="A reference holder: receive credentials over OpenID4VCI.")


def parse_offer_uri(uri: str) -> tuple[dict[str, Any] | None, str | None]:
    """(offer by value, None) or (None, ``credential_offer_uri``) of an offer URI (§4.1)."""
    parts = urlsplit(uri)
    if parts.scheme not in (OFFER_SCHEME, "https", "http"):
        raise MalformedValueError("not a credential offer URI", scheme=parts.scheme)
    query = parse_qs(parts.query)
    if ("credential_offer" in query) == ("credential_offer_uri" in query):
        raise MalformedValueError("an offer URI has credential_offer or credential_offer_uri")
    if "credential_offer" in query:
        value = json.loads(query["credential_offer"][0])
        if not isinstance(value, dict):
            raise MalformedValueError("credential_offer is a JSON object")
        return value, None
    return None, query["credential_offer_uri"][0]


def holder_key(folder: Path) -> SigningKey:
    """The folder's holder key, made (P-256) on first use."""
    path = folder / HOLDER_KEY_FILE
    if path.exists():
        return SigningKey.from_private_jwk(json.loads(path.read_text()))
    key = SigningKey.generate_p256()
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(key.private_jwk(), out)
    return key


def receive(
    client: httpx.Client,
    uri: str,
    pin: str | None,
    folder: Path,
    now: Callable[[], float] = time.time,
) -> list[Path]:
    """Run the pre-authorized code flow for every configuration of the offer (``now``:
    the clock of the proofs' ``iat``)."""
    value, reference = parse_offer_uri(uri)
    offer = parse_offer(value if value is not None else _ok(client.get(str(reference))))
    well_known = offer.credential_issuer.split("://", 1)
    host, _, path = well_known[1].partition("/")
    base = f"{well_known[0]}://{host}"
    meta = _ok(
        client.get(f"{base}/.well-known/openid-credential-issuer{'/' + path if path else ''}")
    )
    oauth = _ok(
        client.get(f"{base}/.well-known/oauth-authorization-server{'/' + path if path else ''}")
    )
    kid: str | None = None
    if offer.issuer_state is not None and (offer.pre_authorized_code is None or (
        offer.tx_code is not None and pin is None
    )):  # fmt: skip
        token = authorization_code_token(client, offer, meta, oauth, folder, now)
        seed, did = did_key(folder)
        key, kid = SigningKey.from_ed25519(seed), f"{did}#{did.removeprefix('did:key:')}"
    else:
        token = _ok(client.post(oauth["token_endpoint"], data=token_form(offer, pin)))
        key = holder_key(folder)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    identifiers = {d["credential_configuration_id"]: d["credential_identifiers"][0]
                   for d in token.get("authorization_details", [])}  # fmt: skip
    written: list[Path] = []
    for config in offer.configuration_ids:
        nonce = _ok(client.post(meta["nonce_endpoint"]))["c_nonce"]
        proof = key_proof(key, audience=offer.credential_issuer, nonce=nonce,
                          issued_at=int(now()), kid=kid)  # fmt: skip
        request = credential_request(config, proof)
        if config in identifiers:  # OID4VCI §8.2
            del request["credential_configuration_id"]
            request["credential_identifier"] = identifiers[config]
        answer = _ok(client.post(meta["credential_endpoint"], json=request, headers=headers))
        if "transaction_id" in answer:
            typer.echo(f"{config}: deferred (transaction {answer['transaction_id'][:8]}…)")
            continue
        fmt = meta["credential_configurations_supported"][config]["format"]
        for item in answer["credentials"]:
            target = folder / entry_name(item["credential"])
            target.write_bytes(entry(fmt, config, offer.credential_issuer, item["credential"],
                                     answer.get("notification_id")))  # fmt: skip
            written.append(target)
        if meta.get("notification_endpoint") and answer.get("notification_id"):
            client.post(meta["notification_endpoint"], headers=headers,
                        json={"notification_id": answer["notification_id"],
                              "event": "credential_accepted"})  # fmt: skip
    return written


@wallet_app.command("did")
def did_command(
    folder: Annotated[Path, typer.Option("--dir", help="where credentials are kept")] = Path(
        "wallet"
    ),
) -> None:
    """Print the folder's did:key (made on first use): give it to the agency, whose offer
    then lets this wallet sign in with it (the authorization code flow)."""
    typer.echo(did_key(folder)[1])


@wallet_app.command("receive")
def receive_command(
    offer_uri: str,
    pin: Annotated[str | None, typer.Option("--pin", help="the agency's Transaction Code")] = None,
    folder: Annotated[Path, typer.Option("--dir", help="where credentials are kept")] = Path(
        "wallet"
    ),
) -> None:
    """Receive the credentials of an offer into ``--dir``."""
    with httpx.Client(timeout=10.0) as client:
        for path in receive(client, offer_uri, pin, folder):
            typer.echo(str(path))
