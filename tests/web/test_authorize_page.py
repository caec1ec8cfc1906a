"""The OpenID4VCI sign-in page in Chromium: the citizen's DID-auth presentation pasted,
or signed in the page with the portal's key; the form is redirected to the wallet's
redirect URI with ``code``, ``state`` and ``iss``, and the code buys an access token."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from identity.credentials.presentations import sign_presentation
from identity.dids.key import did_from_key
from identity.keys import Ed25519PrivateKey
from identity.oid4vci.authorization import s256
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.web import flows
from tests.web.conftest import Browser, Live
from tests.web.test_portal import sign_in_with_a_new_key

VERIFIER = "c" * 43
CLAIMS = {"fullName": "李雷", "dateOfBirth": "1990-02-03", "residenceAddress": "Xuhui",
          "permitNumber": "SH2026001"}  # fmt: skip


def authorization_url(live: Live, subject: str) -> tuple[str, str]:
    agency = flows.agency(live, "Public Security Bureau")
    made = live.http.post(
        "/oid4vci/offers",
        json={"type": "ResidencePermitCredential", "claims": CLAIMS, "subject": subject,
              "grants": ["authorization_code"]},
        headers=flows.headers(agency),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    redirect = live.url + "/wallet-callback"  # loopback, and this origin: nothing leaves it
    query = {
        "response_type": "code", "client_id": "browser-test-wallet", "redirect_uri": redirect,
        "code_challenge": s256(VERIFIER), "code_challenge_method": "S256", "state": "s-42",
        "issuer_state": made.json()["credential_offer"]["grants"]["authorization_code"][
            "issuer_state"], "scope": "ResidencePermitCredential",
    }  # fmt: skip
    return live.url + "/oid4vci/authorize?" + urlencode(query), redirect


def redeemed(live: Live, browser: Browser, redirect: str) -> dict[str, Any]:
    browser.page.wait_for_url(redirect + "?*")
    answer = {k: v[0] for k, v in parse_qs(urlsplit(browser.page.url).query).items()}
    assert answer["state"] == "s-42" and answer["iss"] == live.url
    token = live.http.post("/oid4vci/token", data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": redirect,
        "client_id": "browser-test-wallet", "code_verifier": VERIFIER,
    })  # fmt: skip
    assert token.status_code == 200, token.text
    body: dict[str, Any] = token.json()
    return body


def test_a_pasted_presentation_signs_the_citizen_in(browser: Browser, live: Live) -> None:
    citizen = Ed25519PrivateKey(b"\x31" * 32)
    did = did_from_key(citizen.public_key())
    url, redirect = authorization_url(live, did)
    page = browser.page
    page.goto(url)
    assert page.inner_text("#subject") == did
    assert page.inner_text("#client") == "browser-test-wallet"
    vp = sign_presentation(
        [], holder_key=citizen, holder_did=did, verification_method=f"{did}#{did[8:]}",
        challenge=page.inner_text("#challenge"), domain=page.inner_text("#domain"),
        suite=EddsaJcs2022(), created=live.clock.now(),
    )  # fmt: skip
    page.fill("#presentation", json.dumps(vp))
    page.click("#send-sign-in")
    assert redeemed(live, browser, redirect)["token_type"] == "Bearer"


def test_the_portal_key_signs_in_from_the_page(browser: Browser, live: Live) -> None:
    did = sign_in_with_a_new_key(browser, live)  # a did:cityid key kept in this browser
    url, redirect = authorization_url(live, did)
    page = browser.page
    page.goto(url)
    page.wait_for_selector("#sign-in-browser:not([hidden])")
    assert did in page.inner_text("#sign-in-browser")
    page.click("#sign-in-browser")
    assert redeemed(live, browser, redirect)["access_token"]


def test_the_page_in_chinese_and_a_refusal_page(browser: Browser, live: Live) -> None:
    url, _ = authorization_url(live, did_from_key(Ed25519PrivateKey(b"\x32" * 32).public_key()))
    page = browser.page
    page.goto(url + "&lang=zh-CN")
    assert page.inner_text("h1") == "登录以领取凭证"
    page.goto(live.url + "/oid4vci/authorize?client_id=x&redirect_uri=https://evil.example/")
    assert page.inner_text("#authorize-error")  # shown here, never redirected
    assert page.url.startswith(live.url)
