"""The verifier page in Chromium with the other formats: SD-JWT VCs (paste the compact
`~` string; every check and exactly the disclosed claims) and VC-JOSE-COSE envelopes
(a bare compact JWS the page wraps, or the JSON envelope)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from identity.clock import xsd_datetime
from identity.jose.keys import SigningKey
from identity.sdjwt.format import split
from identity.sdjwt.holder import KeyBinding, present
from tests.sdjwt.conftest import counter_random
from tests.sdjwt.service_helpers import sd_issue
from tests.web import flows
from tests.web.conftest import Browser, Live
from tests.web.test_verify_page import ALL_CHECKS, states, verify_text

SD_JWT_CHECKS = [
    "wellFormed",
    "signature",
    "disclosures",
    "validity",
    "keyBinding",
    "status",
    "issuerTrust",
    "anchor",
]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sd_jwt_vc(live: Live) -> tuple[str, SigningKey]:
    """An SD-JWT VC from an accredited agency, bound to a new P-256 holder key, anchored
    under a signed checkpoint."""
    holder = SigningKey.generate_p256(counter_random())
    response = sd_issue(live.http, flows.agency(live), holder)
    assert response.status_code == 201, response.text
    live.settle()
    token: str = response.json()["credential"]
    return token, holder


def disclosed_claims(browser: Browser) -> dict[str, tuple[str, bool]]:
    """Each claim row of the page: its display name -> (its value, marked as disclosed by
    the holder's choice)."""
    rows = browser.page.locator("#claims dt[data-claim]")
    out = {}
    for i in range(rows.count()):
        value = browser.page.locator(
            f'#claims dd[data-claim="{rows.nth(i).get_attribute("data-claim")}"]'
        )
        out[rows.nth(i).inner_text()] = (
            value.locator(".value").inner_text(),
            value.locator(".tag").count() == 1,
        )
    return out


def test_a_valid_sd_jwt_presentation_shows_every_check_and_only_what_was_disclosed(
    browser: Browser, live: Live
) -> None:
    token, holder = sd_jwt_vc(live)
    page = browser.page
    page.goto(live.url + "/verify")
    # The counter asks for a challenge: the holder's KB-JWT must carry it, for this origin.
    page.click("details.challenge summary")
    with page.expect_response(lambda r: r.url.endswith("/challenges")) as answered:
        page.click("#new-challenge")
    nonce = answered.value.json()["challenge"]
    iat = int(live.clock.now().timestamp())
    shown = present(
        token, ["district"], holder_key=holder, binding=KeyBinding(nonce, live.url, iat)
    )
    page.fill("#document", shown)
    page.click("#verify-button")
    page.wait_for_function(
        "() => /^(Valid|Not valid|Could not)/.test(document.getElementById('verdict').textContent)"
    )
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("role") == "status"
    assert verdict.inner_text() == "Valid: every check passed.", states(browser)
    assert states(browser) == {name: "passed" for name in [*SD_JWT_CHECKS, "browserAnchor"]}
    checks = page.locator("#checks").inner_text()
    for words in (
        "Issuer's signature",
        "Disclosed claims match what was signed",
        "Presented by its holder",
        "over this counter's challenge",
        "Public Security Bureau",
        "accredited to issue ResidencePermitCredential",
    ):
        assert words in checks, words  # fmt: skip
    # Exactly what was disclosed, under the type's display names.
    assert disclosed_claims(browser) == {
        "Full name": ("李雷", False),
        "District": ("Chaoyang", True),
    }
    claims = page.locator("#claims").inner_text()
    assert "Residence permit" in claims
    for hidden in ("1990-02-03", "Xuhui", "SH2026001", "Date of birth", "Permit number"):
        assert hidden not in claims, hidden


def tamper_disclosure(token: str) -> str:
    first = split(token).disclosures[0]
    salt, name, _ = json.loads(unb64url(first))
    return token.replace(first, b64url(json.dumps([salt, name, "forged"]).encode()), 1)


def tamper_payload(token: str) -> str:
    jwt = split(token).issuer_jwt
    header, payload, signature = jwt.split(".")
    claims = json.loads(unb64url(payload))
    claims["fullName"] = "Han Meimei"
    return token.replace(jwt, ".".join([header, b64url(json.dumps(claims).encode()), signature]))


@pytest.mark.parametrize(("tamper", "check", "name"), [
    (tamper_disclosure, "disclosures", "Disclosed claims match what was signed"),
    (tamper_payload, "signature", "Issuer's signature"),
])  # fmt: skip
def test_a_tampered_sd_jwt_names_the_failed_check(
    browser: Browser, live: Live, tamper: Any, check: str, name: str
) -> None:
    token, _ = sd_jwt_vc(live)
    verdict = verify_text(browser, live, tamper(token))
    assert verdict.inner_text() == f"Not valid. Failed: {name}."
    found = states(browser)
    assert found[check] == "failed"
    # Nothing after the refusal is claimed as passed.
    assert set(found) == set(SD_JWT_CHECKS)
    assert all(state == "skipped" for n, state in found.items() if n != check)
    assert "Han Meimei" not in browser.page.locator("#claims").inner_text()


def enveloped(live: Live, media_type: str) -> dict[str, Any]:
    """An enveloped residence permit (``options.envelope``), under a signed checkpoint."""
    issuer = flows.agency(live)
    now = live.clock.now()
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "issuer": issuer["did"],
        "validFrom": xsd_datetime(now - timedelta(days=1)),
        "credentialSubject": {
            "id": "did:example:citizen-1",
            "fullName": "Li Lei",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "1 Hengshan Rd, Xuhui",
            "permitNumber": "SH2026001",
        },
    }
    response = live.http.post(
        "/credentials/issue",
        json={
            "credential": credential,
            "options": {"envelope": media_type, "waitForCheckpoint": True},
        },
        headers=flows.headers(issuer),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_bare_vc_jwt_is_wrapped_and_verifies(browser: Browser, live: Live) -> None:
    issued = enveloped(live, "application/vc+jwt")
    envelope = issued["verifiableCredential"]
    token = envelope["id"].removeprefix("data:application/vc+jwt,")
    assert token.startswith("eyJ")
    posted: list[Any] = []
    browser.page.on(
        "request",
        lambda r: (
            posted.append(r.post_data_json) if r.url.endswith("/credentials/verify") else None
        ),
    )
    verdict = verify_text(browser, live, token)
    assert verdict.inner_text() == "Valid: every check passed."
    assert states(browser) == {name: "passed" for name in [*ALL_CHECKS, "browserAnchor"]}
    # The page sent exactly the envelope the service handed out (docs/jose-cose.md).
    assert posted[0]["verifiableCredential"] == envelope
    proof = browser.page.locator('#checks li[data-check="proof"]').inner_text()
    assert "application/vc+jwt" in proof
    anchor = browser.page.locator('#checks li[data-check="anchor"]').inner_text()
    assert f"at index {issued['receipt']['index']}" in anchor
    assert "SH2026001" in browser.page.locator("#claims").inner_text()


def test_a_vc_cose_envelope_as_json_verifies(browser: Browser, live: Live) -> None:
    issued = enveloped(live, "application/vc+cose")
    verdict = verify_text(browser, live, json.dumps(issued["verifiableCredential"]))
    assert verdict.inner_text() == "Valid: every check passed."
    assert states(browser) == {name: "passed" for name in [*ALL_CHECKS, "browserAnchor"]}
    assert "not shown on this page" in browser.page.locator("#claims").inner_text()


def test_the_failed_check_is_named_in_chinese_too(browser: Browser, live: Live) -> None:
    token, _ = sd_jwt_vc(live)
    page = browser.page
    page.goto(live.url + "/verify?lang=zh-CN")
    page.fill("#document", tamper_disclosure(token))
    page.click("#verify-button")
    page.wait_for_function(
        "() => document.getElementById('verdict').textContent.startsWith('无效')"
    )
    assert page.locator("#verdict").inner_text() == "无效。未通过：披露的信息与签名内容一致。"
    failed = page.locator('#checks li[data-check="disclosures"]').inner_text()
    assert "与签发方签名的内容不符" in failed
