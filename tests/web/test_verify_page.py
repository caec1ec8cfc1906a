"""The verifier page in Chromium: every check shown by name, failures named."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from identity.credentials.presentations import sign_presentation
from identity.encoding import multibase_encode
from identity.keys import Ed25519PrivateKey
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.web import flows
from tests.web.conftest import Browser, Live

ALL_CHECKS = ["wellFormed", "proof", "issuer", "validityPeriod", "status", "issuerTrust", "anchor"]


def verify_text(browser: Browser, live: Live, text: str) -> Any:
    page = browser.page
    page.goto(live.url + "/verify")
    page.fill("#document", text)
    page.click("#verify-button")
    verdict = page.locator("#verdict")
    page.wait_for_function(
        "() => /^(Valid|Not valid|Could not)/.test(document.getElementById('verdict').textContent)"
    )
    return verdict


def states(browser: Browser) -> dict[str, str]:
    items = browser.page.locator("#checks li")
    return {
        items.nth(i).get_attribute("data-check"): items.nth(i).get_attribute("data-state")
        for i in range(items.count())
    }


def test_a_valid_credential_shows_every_check_passed(browser: Browser, live: Live) -> None:
    issued = flows.issue(live, flows.agency(live))
    verdict = verify_text(browser, live, json.dumps(issued["verifiableCredential"]))
    assert verdict.get_attribute("role") == "status"
    assert verdict.inner_text() == "Valid: every check passed."
    found = states(browser)
    assert found == {name: "passed" for name in [*ALL_CHECKS, "browserAnchor"]}
    anchor = browser.page.locator('#checks li[data-check="anchor"]').inner_text()
    assert f"at index {issued['receipt']['index']}" in anchor
    trust = browser.page.locator('#checks li[data-check="issuerTrust"]').inner_text()
    assert "accredited to issue ResidencePermitCredential" in trust and "operator" in trust
    signer = browser.page.locator('#checks li[data-check="issuer"]').inner_text()
    assert "Public Security Bureau" in signer
    assert "SH2026001" in browser.page.locator("#claims").inner_text()


def test_a_tampered_credential_names_the_failed_check(browser: Browser, live: Live) -> None:
    issued = flows.issue(live, flows.agency(live))
    tampered = copy.deepcopy(issued["verifiableCredential"])
    tampered["credentialSubject"]["permitNumber"] = "SH2026999"
    verdict = verify_text(browser, live, json.dumps(tampered))
    assert verdict.inner_text() == "Not valid. Failed: Signature."
    found = states(browser)
    assert found["proof"] == "failed"
    assert found["wellFormed"] == "passed"
    failed = browser.page.locator('#checks li[data-check="proof"]').inner_text()
    assert "signature does not verify" in failed
    # Whatever could not be checked after it is shown as not checked, never as passed.
    assert all(
        found[n] in ("failed", "skipped")
        for n in found
        if n not in ("wellFormed", "validityPeriod", "status", "issuerTrust", "anchor")
    )


def test_an_expired_and_revoked_credential_shows_both_failures(
    browser: Browser, live: Live
) -> None:
    issuer = flows.agency(live)
    until = live.clock.now() + timedelta(days=1)
    issued = flows.issue(live, issuer, validUntil=until.strftime("%Y-%m-%dT%H:%M:%SZ"))
    flows.revoke(live, issuer, issued["credentialId"])
    live.clock.advance(timedelta(days=2))
    verdict = verify_text(browser, live, json.dumps(issued["verifiableCredential"]))
    found = states(browser)
    assert found["validityPeriod"] == "failed"
    assert found["status"] == "failed"
    text = verdict.inner_text()
    assert "Valid now" in text and "Not revoked or suspended" in text


def test_a_presentation_verifies(browser: Browser, live: Live) -> None:
    issued = flows.issue(live, flows.agency(live))
    holder = Ed25519PrivateKey(bytes([9]) * 32)
    did = "did:key:" + multibase_encode(b"\xed\x01" + holder.public_key().raw)
    challenge = live.http.post("/challenges").json()["challenge"]
    vp = sign_presentation(
        [issued["verifiableCredential"]],
        holder_key=holder,
        holder_did=did,
        verification_method=did + "#" + did.removeprefix("did:key:"),
        challenge=challenge,
        domain=None,
        suite=EddsaJcs2022(),
        created=live.clock.now(),
    )
    verdict = verify_text(browser, live, json.dumps(vp))
    assert verdict.inner_text().startswith("Valid presentation by " + did)
    assert states(browser) == {
        "wellFormed": "passed",
        "holderProof": "passed",
        "credentials": "passed",
        "challenge": "passed",
    }
    # The challenge is used up: the same presentation again fails, by name.
    browser.page.click("#verify-button")
    browser.page.wait_for_function(
        "() => document.getElementById('verdict').textContent.startsWith('Not valid')"
    )
    assert states(browser)["challenge"] == "failed"


def test_the_page_works_with_the_keyboard_alone(browser: Browser, live: Live) -> None:
    """Skip link, then Tab to the text box, type, Tab to Verify, Enter."""
    issued = flows.issue(live, flows.agency(live))
    page = browser.page
    page.goto(live.url + "/verify")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "document":
            break
    assert page.evaluate("document.activeElement.id") == "document"
    page.keyboard.insert_text(json.dumps(issued["verifiableCredential"]))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "verify-button"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('verdict').textContent.startsWith('Valid')"
    )
