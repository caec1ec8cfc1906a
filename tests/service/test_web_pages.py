"""The pages and the QR endpoint over HTTP (no browser): headers, languages, assets,
and the QR endpoint's refusals (tests/web drives the pages in Chromium)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from identity.credentials import qrcode
from identity.log.entries import KINDS
from service.web import i18n, pages
from tests.service.conftest import credential_for, issue, make_issuer, services_of
from tests.service.directory_helpers import Citizen

PROBLEMS = "https://identity-service.example/problems/"
CREDENTIAL_CHECKS = [
    "wellFormed",
    "proof",
    "issuer",
    "validityPeriod",
    "status",
    "issuerTrust",
    "anchor",
]
WEB = pages.HERE


@pytest.mark.parametrize("path", ["/verify", "/wallet", "/log", "/counter"])
def test_pages_are_served_with_a_strict_csp_and_nothing_from_elsewhere(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert csp.startswith("default-src 'self';") and "unsafe" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "<script>" not in html and " style=" not in html  # nothing inline
    for asset in re.findall(r'(?:src|href)="(/web-assets/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_the_api_routes_under_the_page_paths_are_unchanged(client: TestClient) -> None:
    assert client.get("/log/checkpoint").headers["content-type"].startswith("text/plain")
    assert client.get("/log/key").json()["origin"]
    assert client.get("/wallet/credentials").status_code == 401


def test_the_language_follows_the_browser_and_the_choice(client: TestClient) -> None:
    zh = client.get("/verify", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in zh.text and "核验凭证" in zh.text
    en = client.get("/verify", headers={"Accept-Language": "fr, en;q=0.4, zh;q=0.3"})
    assert '<html lang="en">' in en.text and "Verify a credential" in en.text
    chosen = client.get("/log?lang=zh-CN", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in chosen.text
    assert "lang=zh-CN" in chosen.headers["set-cookie"]
    remembered = client.get("/wallet", headers={"Accept-Language": "en"})  # cookie kept
    assert '<html lang="zh-CN">' in remembered.text
    assert i18n.choose("xx", None, "de;q=1, zh-Hans-CN;q=0.8") == "zh-CN"
    assert i18n.choose(None, None, "en;q=0, zh;q=garbage") == "en"


def test_one_catalogue_per_language_with_every_text_the_pages_use() -> None:
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    assert set(en) == set(zh)
    assert all(value.strip() for value in [*en.values(), *zh.values()])
    used = set()
    for template in (WEB / "templates").glob("*.html"):
        used |= set(re.findall(r"\bt\.([a-z_]+)", template.read_text()))
    for script in (WEB / "static" / "js").glob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*"([A-Za-z_]+)"\s*[,)]""", script.read_text()))
    assert used and used <= set(en), sorted(used - set(en))
    # Texts looked up by a prefix and a name the service sends.
    sharing_kinds = [k for k in KINDS if k.split(".")[0] in ("sharing", "consent", "data")]
    states = ["awaiting-consent", "consented", "refused", "exempted", "approved", "withdrawn"]
    checks = [*CREDENTIAL_CHECKS, "holderProof", "credentials", "challenge"]
    dynamic = (
        [f"kind_{k}" for k in sharing_kinds]
        + [f"state_{s}" for s in states]
        + [f"mark_{m}" for m in ("passed", "failed", "skipped", "pending")]
        + ["basis_consent", "basis_exemption", "check_browserAnchor"]
        + [f"check_{c}{suffix}" for c in checks for suffix in ("", "_failed")]
    )
    assert set(dynamic) <= set(en), sorted(set(dynamic) - set(en))
    # Placeholders match between the two languages.
    for key, text in en.items():
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", zh[key])), key


def test_assets_are_the_package_files_only(client: TestClient) -> None:
    script = client.get("/web-assets/js/crypto.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    for bad in ["/web-assets/../pages.py", "/web-assets/%2e%2e/pages.py", "/web-assets/nope.js"]:
        response = client.get(bad)
        assert response.status_code == 404, bad
    for script_path in (WEB / "static" / "js").glob("*.js"):
        imports = re.findall(r"""from\s+"([^"]+)\"""", script_path.read_text())
        assert all(i.startswith("./") for i in imports), script_path


def test_the_qr_decoder_is_vendored_with_its_licence(client: TestClient) -> None:
    vendored = WEB / "static" / "vendor"
    if not (vendored / "jsQR.js").exists():
        pytest.fail("jsQR is missing: scripts/check runs scripts/vendor-assets first")
    assert "Apache License" in (vendored / "jsQR.LICENSE").read_text()
    assert client.get("/web-assets/vendor/jsQR.LICENSE").status_code == 200
    assert 'src="/web-assets/vendor/jsQR.js"' in client.get("/verify").text


# -- POST /wallet/credentials/{id}/qr ----------------------------------------------------


def citizen_with_credential(client: TestClient, now: datetime) -> tuple[Citizen, dict, str]:
    citizen = Citizen(seed=21)
    citizen.register(client)
    agency = make_issuer(client)
    document = credential_for(agency["did"])
    document["credentialSubject"]["id"] = citizen.did
    issued = issue(client, agency, document).json()
    return citizen, issued["verifiableCredential"], issued["credentialId"]


def test_the_qr_code_of_my_credential_as_svg_and_png(client: TestClient, clock) -> None:
    citizen, credential, cid = citizen_with_credential(client, clock.now())
    headers = citizen.headers(client, clock.now())
    svg = client.post(f"/wallet/credentials/{cid}/qr", json=credential, headers=headers)
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg") and "QR code" in svg.text
    png = client.post(f"/wallet/credentials/{cid}/qr?format=png", json=credential, headers=headers)
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    length = int(png.headers["x-qr-payload-length"])
    assert length == len(qrcode.encode(credential))


def test_the_qr_endpoint_refuses_what_it_must(client: TestClient, clock, monkeypatch) -> None:
    citizen, credential, cid = citizen_with_credential(client, clock.now())
    headers = citizen.headers(client, clock.now())
    before = services_of(client).logs.log.store.entry_count()
    path = f"/wallet/credentials/{cid}/qr"
    assert client.post(path, json=credential).status_code == 401
    other = Citizen(seed=22)
    other.register(client)
    before = services_of(client).logs.log.store.entry_count()
    theirs = client.post(path, json=credential, headers=other.headers(client, clock.now()))
    assert theirs.status_code == 404 and theirs.json()["type"] == PROBLEMS + "not-found"
    altered = json.loads(json.dumps(credential))
    altered["credentialSubject"]["fullName"] = "Someone Else"
    wrong = client.post(path, json=altered, headers=headers)
    assert wrong.status_code == 422
    assert wrong.json()["type"] == "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
    assert client.post(path + "?format=gif", json=credential, headers=headers).status_code == 422
    as_json = headers | {"Content-Type": "application/json"}
    assert client.post(path, content=b"[1]", headers=as_json).status_code == 422
    monkeypatch.setattr(qrcode, "MAX_COMPRESSED_BYTES", 100)
    large = client.post(path, json=credential, headers=headers)
    assert large.status_code == 422
    problem = large.json()
    assert problem["type"] == PROBLEMS + "qr-capacity"
    assert problem["limit"] == 100 and problem["compressedBytes"] > 100
    assert services_of(client).logs.log.store.entry_count() == before  # nothing written
