"""The reference wallet's authorization code flow over HTTP (OID4VCI 1.0 §5, PKCE S256),
signing in with the folder's DID key: ``identity wallet receive`` runs it for an offer
with ``issuer_state`` (service/wallet_cli.py), ``identity wallet did`` prints the DID to
give the agency. Pure request builders: :mod:`identity.wallet_client.authorization`.

The wallet is a native app (RFC 8252): ``client_id`` is its name and ``redirect_uri`` a
loopback URI it would listen on; it signs in non-interactively (the sign-in answers as
JSON), so nothing needs to listen there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import typer

from identity.dids.key import did_from_key
from identity.encoding import b64url
from identity.errors import MalformedValueError
from identity.keys import Ed25519PrivateKey
from identity.wallet_client.authorization import (
    authorization_request,
    code_token_form,
    did_auth,
    new_pkce,
)
from identity.wallet_client.folder import DID_KEY_FILE
from identity.wallet_client.issuance import CredentialOffer

CLIENT_ID = "identity-reference-wallet"
REDIRECT_URI = "http://127.0.0.1/identity-wallet/callback"


def did_key(folder: Path) -> tuple[Ed25519PrivateKey, str]:
    """The folder's Ed25519 ``did:key`` (made on first use, mode 0600) and its DID; a file
    that holds no 32-byte hex ``seed`` is :class:`MalformedValueError` naming it."""
    path = folder / DID_KEY_FILE
    if path.exists():
        try:
            key = Ed25519PrivateKey(bytes.fromhex(json.loads(path.read_text())["seed"]))
        except (ValueError, KeyError, TypeError, MalformedValueError):
            raise MalformedValueError(f"{path} holds no 32-byte hex seed") from None
        return key, did_from_key(key.public_key())
    key = Ed25519PrivateKey.generate(os.urandom)
    did = did_from_key(key.public_key())
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"did": did, "seed": key.seed.hex()}, out)
    return key, did


def authorization_response(location: str, *, state: str, issuer: str) -> str:
    """The ``code`` of the Authorization Response at ``location``; an error response, a
    foreign ``state`` or a missing or foreign ``iss`` is :class:`MalformedValueError`."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if "error" in query:
        raise MalformedValueError(
            f"authorization refused: {query['error']}: {query.get('error_description', '')}"
        )
    if query.get("state") != state:
        raise MalformedValueError("the authorization response is for another request (state)")
    if query.get("iss") != issuer:
        raise MalformedValueError("the authorization response is from another server (iss)")
    if not query.get("code"):
        raise MalformedValueError("the authorization response has no code")
    return query["code"]


def ok_json(response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer; any 4xx/5xx is one ``BadParameter`` line naming the
    path and the start of the service's answer (the CLI prints it, never a traceback)."""
    if response.status_code >= 400:
        raise typer.BadParameter(f"{response.request.url.path}: {response.text[:300]}")
    return response.json()


def authorization_code_token(
    client: httpx.Client,
    offer: CredentialOffer,
    meta: dict[str, Any],
    oauth: dict[str, Any],
    folder: Path,
    now: Callable[[], float],
) -> dict[str, Any]:
    """Authorization Request, DID sign-in, code for token: the Token Response."""
    key, did = did_key(folder)
    pkce, state = new_pkce(os.urandom), b64url(os.urandom(16))
    query = authorization_request(offer, meta, client_id=CLIENT_ID, redirect_uri=REDIRECT_URI,
                                  pkce=pkce, state=state)  # fmt: skip
    accept = {"Accept": "application/json"}
    started = client.get(oauth["authorization_endpoint"] + "?" + urlencode(query), headers=accept)
    if started.status_code == 303:  # refused, answered to our redirect URI
        authorization_response(started.headers["location"], state=state, issuer=oauth["issuer"])
    started_body = ok_json(started)
    created = datetime.fromtimestamp(int(now()), UTC)
    vp = did_auth(key, did, challenge=started_body["challenge"], domain=started_body["domain"],
                  created=created)  # fmt: skip
    signed = ok_json(client.post(started_body["sign_in_uri"], headers=accept,
                             data={"presentation": json.dumps(vp)}))  # fmt: skip
    code = authorization_response(signed["redirect_to"], state=state, issuer=oauth["issuer"])
    form = code_token_form(code, client_id=CLIENT_ID, redirect_uri=REDIRECT_URI, pkce=pkce)
    token: dict[str, Any] = ok_json(client.post(oauth["token_endpoint"], data=form))
    return token
