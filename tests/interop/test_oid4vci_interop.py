"""OpenID4VCI 1.0 against an independent wallet: the OpenWallet Foundation's
``@openid4vc/openid4vci`` 0.4.6 (+ ``@openid4vc/oauth2``; the wallet-side client of
OpenID4VCI 1.0 final used by Credo) resolves the service's offer by reference, runs the
pre-authorized code flow with the PIN, fetches a ``c_nonce``, signs a jwt key proof,
receives the SD-JWT VC and checks it with ``@sd-jwt/sd-jwt-vc``; the service's own
verifier then accepts it. The packages are pinned in tests/interop/oid4vc_js/package.json
(scripts/ensure-oid4vc-peers); missing under ``CI=true`` is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import BUNDLED_TYPES
from tests.web.conftest import serve

pytestmark = pytest.mark.interop
JS_DIR = Path(__file__).parent / "oid4vc_js"


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@openid4vc" / "openid4vci").is_dir():
        reason = "node or @openid4vc/openid4vci is missing (scripts/ensure-oid4vc-peers)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return node


def test_the_openid4vc_wallet_receives_an_sd_jwt_vc(tmp_path: Path) -> None:
    node = _node()
    with serve(tmp_path) as live:
        admin = {"Authorization": "Bearer " + "admin-token-" + "x" * 32}
        agency = live.http.post("/issuers", json={"name": "PSB"}, headers=admin).json()
        accredited = live.http.post(
            "/accreditations",
            json={"issuer": agency["id"], "types": BUNDLED_TYPES,
                  "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2030-01-01T00:00:00Z"},
            headers=admin,
        )  # fmt: skip
        assert accredited.status_code == 201, accredited.text
        claims = {"fullName": "李雷", "dateOfBirth": "1990-02-03",
                  "residenceAddress": "Xuhui", "permitNumber": "SH2026001"}  # fmt: skip
        made = live.http.post(
            "/oid4vci/offers",
            json={"type": "ResidencePermitCredential", "claims": claims},
            headers={"Authorization": f"Bearer {agency['apiKey']}"},
        )
        assert made.status_code == 201, made.text
        offer: dict[str, Any] = made.json()
        before = live.services.logs.log.store.entry_count()
        done = subprocess.run(
            [node, "wallet.mjs"],
            input=json.dumps({"offerUri": offer["offerUri"], "pin": offer["txCode"]}),
            capture_output=True, text=True, cwd=JS_DIR, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout)
        assert result["configurationId"] == "ResidencePermitCredential_dc_sd_jwt"
        assert result["claims"]["fullName"] == "李雷"
        assert result["claims"]["cnf"]["jwk"]["x"] == result["holderJwk"]["x"]
        assert live.services.logs.log.store.entry_count() == before + 1  # anchored
        again = live.http.post(
            "/oid4vci/token",
            data={"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                  "pre-authorized_code": offer["credential_offer"]["grants"][
                      "urn:ietf:params:oauth:grant-type:pre-authorized_code"
                  ]["pre-authorized_code"], "tx_code": offer["txCode"]},
        )  # fmt: skip
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def _wallet_step(node: str, request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [node, "wallet_authorize.mjs"], input=json.dumps(request), capture_output=True,
        text=True, cwd=JS_DIR, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


@pytest.mark.parametrize("method", ["key", "cityid"])
def test_the_openid4vc_wallet_runs_the_authorization_code_flow(tmp_path: Path, method: str) -> None:
    """The library builds the Authorization Request (PKCE S256, issuer_state, scope,
    resource) from the offer and metadata and pushes it (RFC 9126); the citizen signs in
    with their DID -- a did:key, or a did:cityid registered with the city (the portal's
    browser key) -- between the library's two steps; the library checks ``iss``,
    exchanges the code with its verifier, signs the key proof with ``kid`` = the DID URL
    and receives the SD-JWT VC bound to the citizen's key."""
    from urllib.parse import parse_qsl, urlsplit

    from identity.credentials.presentations import sign_presentation
    from identity.dids.cityid import create_operation, did_of
    from identity.dids.key import did_from_key
    from identity.encoding import b64url
    from identity.keys import Ed25519PrivateKey
    from identity.proofs.eddsa_jcs import EddsaJcs2022

    node = _node()
    citizen = Ed25519PrivateKey(b"\x21" * 32)
    create = create_operation(citizen)
    did = did_from_key(citizen.public_key()) if method == "key" else did_of(create)
    did_url = f"{did}#{did.removeprefix('did:key:')}" if method == "key" else did + "#key-1"
    jwk = {"kty": "OKP", "crv": "Ed25519", "d": b64url(citizen.seed),
           "x": b64url(citizen.public_key().raw)}  # fmt: skip
    redirect = "http://127.0.0.1:9140/callback"
    with serve(tmp_path) as live:
        admin = {"Authorization": "Bearer " + "admin-token-" + "x" * 32}
        agency = live.http.post("/issuers", json={"name": "PSB"}, headers=admin).json()
        live.http.post(
            "/accreditations",
            json={"issuer": agency["id"], "types": BUNDLED_TYPES,
                  "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2030-01-01T00:00:00Z"},
            headers=admin,
        ).raise_for_status()  # fmt: skip
        if method == "cityid":
            assert live.http.post("/dids", json=create).status_code == 201
        claims = {"fullName": "韩梅梅", "dateOfBirth": "1991-04-05",
                  "residenceAddress": "Pudong", "permitNumber": "SH2026002"}  # fmt: skip
        made = live.http.post(
            "/oid4vci/offers",
            json={"type": "ResidencePermitCredential", "claims": claims, "subject": did,
                  "grants": ["authorization_code"]},
            headers={"Authorization": f"Bearer {agency['apiKey']}"},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        offer_uri = made.json()["offerUri"]
        started = _wallet_step(node, {"step": "start", "offerUri": offer_uri,
                                      "redirectUri": redirect})  # fmt: skip
        asked = urlsplit(started["authorizationRequestUrl"])
        # the library pushed the request (RFC 9126: the metadata names the PAR endpoint)
        query = dict(parse_qsl(asked.query))
        assert asked.path == "/oid4vci/authorize" and query["client_id"] == "openid4vc-ts-wallet"
        store = live.app.state.oid4vci.store
        pushed = store.get_authorization(query["request_uri"].rsplit(":", 1)[1])
        assert pushed.status == "pushed" and len(pushed.code_challenge) == 43
        # the citizen signs in with their DID (what the sign-in page or a wallet does)
        sign_in = live.http.get(started["authorizationRequestUrl"],
                                headers={"Accept": "application/json"})  # fmt: skip
        assert sign_in.status_code == 200, sign_in.text
        body = sign_in.json()
        vp = sign_presentation(
            [], holder_key=citizen, holder_did=did, verification_method=did_url,
            challenge=body["challenge"], domain=body["domain"], suite=EddsaJcs2022(),
            created=live.clock.now(),
        )  # fmt: skip
        answered = live.http.post(body["sign_in_uri"], data={"presentation": json.dumps(vp)})
        assert answered.status_code == 303, answered.text
        location = answered.headers["location"]
        assert location.startswith(redirect + "?")
        before = live.services.logs.log.store.entry_count()
        result = _wallet_step(node, {
            "step": "finish", "offerUri": offer_uri, "redirectUri": redirect,
            "codeVerifier": started["codeVerifier"], "redirectedTo": location,
            "didUrl": did_url, "privateJwk": jwk,
        })  # fmt: skip
        assert result["configurationId"] == "ResidencePermitCredential_dc_sd_jwt"
        assert result["claims"]["fullName"] == "韩梅梅" and result["claims"]["sub"] == did
        assert result["claims"]["cnf"]["jwk"]["x"] == jwk["x"]
        assert result["iss"] == live.url
        assert live.services.logs.log.store.entry_count() == before + 1  # anchored
