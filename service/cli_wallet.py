"""``identity wallet present <request-uri> --dir <folder>``: the reference wallet answers
an OpenID4VP request (issue #18) with the SD-JWT VCs in a folder.

The folder is the one ``identity wallet receive`` fills (``identity.wallet_client.folder``);
bare ``*.sd-jwt`` files with a ``holder.jwk`` are read too. The logic is
:mod:`identity.wallet_client.presentation`; this module does the I/O.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import typer

from identity.errors import IdentityError
from identity.jose.keys import SigningKey
from identity.oid4vp.errors import Oid4vpError
from identity.wallet_client.folder import HOLDER_KEY_FILE
from identity.wallet_client.presentation import (
    HeldCredential,
    build_response,
    unsigned_request,
    verify_request_object,
)
from service.cli_common import fail
from service.wallet_cli import wallet_app  # one `identity wallet` group: receive, present


def parse_authorization_uri(uri: str) -> dict[str, str]:
    """The parameters of an ``openid4vp://`` (or https) Authorization Request URI."""
    params = dict(parse_qsl(urlsplit(uri).query, keep_blank_values=True))
    if "client_id" not in params:
        raise Oid4vpError("the authorization request has no client_id")
    return params


def read_folder(folder: Path) -> tuple[list[HeldCredential], SigningKey]:
    """The credentials of ``folder`` and its holder key: the entries that ``identity wallet
    receive`` keeps (:mod:`identity.wallet_client.folder`; ``dc+sd-jwt`` and ``ldp_vc``),
    and bare ``*.sd-jwt`` files."""
    held = [
        HeldCredential(p.name, "dc+sd-jwt", p.read_text().strip())
        for p in sorted(folder.glob("*.sd-jwt"))
    ]
    for p in sorted(folder.glob("*.json")):
        kept = json.loads(p.read_text())
        if isinstance(kept, dict) and kept.get("format") == "dc+sd-jwt":
            held.append(HeldCredential(p.name, "dc+sd-jwt", str(kept["credential"]).strip()))
        elif isinstance(kept, dict) and kept.get("format") == "ldp_vc":  # a JSON-LD VC
            document = json.dumps(kept["credential"], ensure_ascii=False)
            held.append(HeldCredential(p.name, "ldp_vc", document))
    key_file = folder / HOLDER_KEY_FILE
    if not key_file.exists():
        key_file = folder / "holder.jwk"
    key = SigningKey.from_private_jwk(json.loads(key_file.read_text()))
    return held, key


def answer(uri: str, folder: Path, http: Any) -> dict[str, Any]:
    """Fetch and verify the request, answer it with ``direct_post``; the endpoint's JSON.
    ``http`` is an ``httpx.Client`` (or a test client)."""
    params = parse_authorization_uri(uri)
    now = int(time.time())
    if "request_uri" in params:
        wallet_nonce = secrets.token_urlsafe(16)
        if params.get("request_uri_method") == "post":  # §5.10: replay-proof by wallet_nonce
            fetched = http.post(params["request_uri"], data={"wallet_nonce": wallet_nonce})
        else:
            fetched = http.get(params["request_uri"])
        if fetched.status_code != 200:
            raise Oid4vpError(f"the request object was refused: {fetched.text[:200]}")
        request = verify_request_object(fetched.text, params["client_id"], now=now)
        if (
            params.get("request_uri_method") == "post"
            and request.get("wallet_nonce") != wallet_nonce
        ):
            raise Oid4vpError("the request object does not carry this wallet's wallet_nonce")
    else:
        request = unsigned_request(params)
    held, key = read_folder(folder)
    form = build_response(request, held, key, now=now)
    posted = http.post(request["response_uri"], data=form)
    if posted.status_code != 200:
        raise Oid4vpError(f"the verifier refused the presentation: {posted.text[:300]}")
    result: dict[str, Any] = posted.json()
    return result


@wallet_app.command("present")
def present(
    request_uri: Annotated[str, typer.Argument(help="The openid4vp:// URI (from the QR code).")],
    dir: Annotated[Path, typer.Option("--dir", help="The wallet folder.")],
) -> None:
    """Answer a presentation request, disclosing only what it asks for."""
    import httpx

    try:
        with httpx.Client(timeout=10) as http:
            result = answer(request_uri, dir, http)
    except (IdentityError, OSError, ValueError, httpx.HTTPError) as exc:
        fail(f"wallet: {exc}", 1)
    typer.echo(json.dumps({"presented": True, **result}))
