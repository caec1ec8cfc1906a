"""SD-JWT VC interoperability, both ways, with two independent implementations really run:
the IETF reference implementation (PyPI ``sd-jwt``, in its own venv) and the OpenWallet
Foundation's ``@sd-jwt/sd-jwt-vc`` (npm). Each verifies an SD-JWT VC this service issued,
presented with a subset of disclosures and a Key Binding JWT (the npm one also checks the
Token Status List the service serves); the service verifies SD-JWT VCs and presentations
that each produced with a key the test registered as an agency's (the agency's own key,
unsealed in the test). ``scripts/ensure-sdjwt-peers`` installs both; without them the
tests skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.jose.jws import parse_compact
from identity.jose.keys import SigningKey, b64url
from identity.sdjwt.format import split
from identity.sdjwt.holder import KeyBinding, present
from service.settings import Settings
from tests.conftest import REPO
from tests.sdjwt.conftest import counter_random
from tests.sdjwt.service_helpers import AUD, NONCE, SUBJECT, sd_issue, sd_verify
from tests.service.conftest import NOW, make_issuer, service_settings, services_of

pytestmark = pytest.mark.interop

ISS = "https://identity.example"
REF_PYTHON = REPO / ".venv" / "sdjwt-ref" / "bin" / "python"
JS_DIR = REPO / "tests" / "interop" / "sdjwt_js"
NOW_S = int(NOW.timestamp())


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the SD-JWT interop tests (scripts/ensure-sdjwt-peers)")
    pytest.skip(f"{reason} (run scripts/ensure-sdjwt-peers)")


def _run(command: list[str], request: dict[str, Any], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        command,
        check=False,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def reference(request: dict[str, Any]) -> dict[str, Any]:
    """One request to the PyPI reference implementation."""
    if not REF_PYTHON.exists():
        _missing("the PyPI sd-jwt reference implementation is not installed")
    return _run([str(REF_PYTHON), str(REPO / "tests/interop/sdjwt_ref_peer.py")], request, REPO)


def owf(request: dict[str, Any]) -> dict[str, Any]:
    """One request to npm @sd-jwt/sd-jwt-vc."""
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@sd-jwt" / "sd-jwt-vc").is_dir():
        _missing("node or @sd-jwt/sd-jwt-vc is not installed")
    return _run([node, "peer.mjs"], request, JS_DIR)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return service_settings(tmp_path / "data", public_url=ISS)


@pytest.fixture
def agency(client: TestClient) -> dict[str, Any]:
    return make_issuer(client)


@pytest.fixture
def holder() -> SigningKey:
    return SigningKey.generate_p256(counter_random())


def agency_private_jwk(client: TestClient, agency: dict[str, Any]) -> dict[str, str]:
    """The agency's key as a private JWK, for a peer to sign as that agency."""
    svc = services_of(client)
    seed = svc.issuance.keys.signing_key(svc.store.get_issuer(agency["id"])).seed
    return {
        **SigningKey.from_ed25519(
            svc.issuance.keys.signing_key(svc.store.get_issuer(agency["id"]))
        ).public_jwk.to_dict(),
        "d": b64url(seed),
    }


def issuer_jwk(client: TestClient) -> dict[str, Any]:
    """The agency key as a verifier finds it: the service's JWT VC issuer metadata."""
    metadata = client.get("/.well-known/jwt-vc-issuer").json()
    assert metadata["issuer"] == ISS
    [key] = metadata["jwks"]["keys"]
    return {k: key[k] for k in ("kty", "crv", "x")}


def issued_by_service(client: TestClient, agency: dict[str, Any], holder: SigningKey) -> str:
    response = sd_issue(client, agency, holder)
    assert response.status_code == 201, response.text
    token: str = response.json()["credential"]
    return token


def status_list_of(client: TestClient, token: str) -> tuple[str, str]:
    uri = parse_compact(split(token).issuer_jwt).claims()["status"]["status_list"]["uri"]
    response = client.get(uri.removeprefix(ISS))
    assert response.headers["content-type"] == "application/statuslist+jwt"
    return uri, response.text


# -- they verify what the service issues ----------------------------------------------------


def test_reference_implementation_verifies_service_sd_jwt_vc(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    token = issued_by_service(client, agency, holder)
    ours = present(token, ["dateOfBirth"], holder_key=holder, binding=KeyBinding(NONCE, AUD, NOW_S))
    out = reference(
        {
            "op": "verify",
            "issued": token,
            "presentation": ours,
            "issuerJwk": issuer_jwk(client),
            "holderJwk": holder.private_jwk(),
            "disclose": ["district"],
            "aud": AUD,
            "nonce": NONCE,
            "iat": NOW_S,
        }
    )
    assert "error" not in out, out.get("error", "")
    mine, theirs = out["presentationPayload"], out["ownPresentationPayload"]
    assert mine["dateOfBirth"] == SUBJECT["dateOfBirth"] and "district" not in mine
    assert theirs["district"] == SUBJECT["district"] and "dateOfBirth" not in theirs
    for payload in mine, theirs:
        assert payload["fullName"] == SUBJECT["fullName"] and payload["iss"] == ISS
        assert "permitNumber" not in payload and "residenceAddress" not in payload
    # and the service verifies the presentation the reference holder made
    verified = sd_verify(client, out["ownPresentation"])
    assert verified.status_code == 200, verified.text
    assert verified.json()["disclosed"] == ["district"]


def test_owf_library_verifies_service_sd_jwt_vc_and_status(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    token = issued_by_service(client, agency, holder)
    uri, status_jwt = status_list_of(client, token)
    shown = present(token, ["district"], holder_key=holder, binding=KeyBinding(NONCE, AUD, NOW_S))
    request = {
        "op": "verify",
        "token": shown,
        "issuerJwk": issuer_jwk(client),
        "statusListUri": uri,
        "statusListJwt": status_jwt,
        "nonce": NONCE,
        "now": NOW_S,
    }
    out = owf(request)
    assert "error" not in out, out.get("error")
    assert out["header"]["typ"] == "dc+sd-jwt"
    assert out["kb"]["payload"]["nonce"] == NONCE and out["kb"]["payload"]["aud"] == AUD
    assert out["claims"]["district"] == SUBJECT["district"]
    assert "dateOfBirth" not in out["claims"] and "permitNumber" not in out["claims"]
    # Revoked through the service: the library, reading the new list, refuses it.
    svc = services_of(client)
    record_id = next(
        r.id
        for r in [
            svc.store.find_credential_by_digest(
                __import__("hashlib").sha256(split(token).issuer_jwt.encode()).digest()
            )
        ]
        if r
    )
    revoked = client.post(
        "/credentials/status",
        json={
            "credentialId": record_id,
            "credentialStatus": {"type": "BitstringStatusListEntry", "status": "revoked"},
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert revoked.status_code in (200, 201), revoked.text
    _, after = status_list_of(client, token)
    refused = owf({**request, "statusListJwt": after})
    assert "error" in refused and "status" in refused["error"].lower()


# -- the service verifies what they issue -------------------------------------------------


def _their_payload(client: TestClient, holder: SigningKey) -> dict[str, Any]:
    claims = {k: v for k, v in SUBJECT.items() if k != "id"}
    return {
        "iss": ISS,
        "vct": f"{ISS}/vct/ResidencePermitCredential",
        "iat": NOW_S - 60,
        "exp": NOW_S + 86_400,
        **claims,
    }


def test_service_verifies_reference_implementation_sd_jwt_vc(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    payload = _their_payload(client, holder)
    out = reference(
        {
            "op": "issue",
            "payload": payload,
            "disclosable": ["dateOfBirth", "residenceAddress", "district", "permitNumber"],
            "issuerJwk": agency_private_jwk(client, agency),
            "kid": agency["verificationMethod"],
            "holderPublicJwk": holder.public_jwk.to_dict(),
            "holderJwk": holder.private_jwk(),
            "disclose": ["district"],
            "aud": AUD,
            "nonce": NONCE,
            "iat": NOW_S,
        }
    )
    assert "error" not in out, out.get("error")
    response = sd_verify(client, out["presentation"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["disclosed"] == ["district"]
    assert body["claims"]["district"] == SUBJECT["district"]
    assert "dateOfBirth" not in body["claims"]
    assert body["results"]["issuerTrust"]["accredited"] is True
    assert body["results"]["anchor"] is None  # issued elsewhere: this log never anchored it
    # its issuance without key binding, when none is asked for
    plain = sd_verify(client, out["issued"], keyBinding=None)
    assert plain.status_code == 200, plain.text
    assert len(plain.json()["disclosed"]) == 4
    # and a tampered twin is refused
    tampered = out["presentation"].replace(
        split(out["presentation"]).disclosures[0],
        b64url(json.dumps(["c2FsdA", "district", "Haidian"]).encode()),
    )
    assert sd_verify(client, tampered).status_code == 422


def test_service_verifies_owf_library_sd_jwt_vc(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    payload = {**_their_payload(client, holder), "cnf": {"jwk": holder.public_jwk.to_dict()}}
    out = owf(
        {
            "op": "issue",
            "payload": payload,
            "disclosable": ["dateOfBirth", "residenceAddress", "district", "permitNumber"],
            "issuerJwk": agency_private_jwk(client, agency),
            "kid": agency["verificationMethod"],
            "holderJwk": holder.private_jwk(),
            "presentationFrame": {"dateOfBirth": True},
            "aud": AUD,
            "nonce": NONCE,
            "iat": NOW_S,
        }
    )
    assert "error" not in out, out.get("error")
    response = sd_verify(client, out["presentation"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["disclosed"] == ["dateOfBirth"]
    assert body["claims"]["dateOfBirth"] == SUBJECT["dateOfBirth"]
    assert "district" not in body["claims"]
    wrong_nonce = sd_verify(
        client, out["presentation"], keyBinding={"nonce": "other", "audience": AUD}
    )
    assert wrong_nonce.status_code == 422
