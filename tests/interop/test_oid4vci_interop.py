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
        before = live.services.log.store.entry_count()
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
        assert live.services.log.store.entry_count() == before + 1  # anchored
        again = live.http.post(
            "/oid4vci/token",
            data={"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                  "pre-authorized_code": offer["credential_offer"]["grants"][
                      "urn:ietf:params:oauth:grant-type:pre-authorized_code"
                  ]["pre-authorized_code"], "tx_code": offer["txCode"]},
        )  # fmt: skip
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
