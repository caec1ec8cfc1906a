"""The agency counter (/counter) in Chromium: a clerk offers a credential over OpenID4VCI,
the QR code on screen decodes to the offer URI, the reference wallet redeems it with the
PIN, and the page shows it issued; deferred offers are approved from the page; the API
key never reaches a URL or the page."""

from __future__ import annotations

import re
from pathlib import Path

from service.wallet_cli import receive
from tests.web import flows
from tests.web.conftest import Browser, Live
from tests.web.wallets import CLAIMS, PERMIT, read_qr_on_screen


def sign_in(browser: Browser, live: Live, key: str, lang: str = "en") -> None:
    page = browser.page
    page.goto(f"{live.url}/counter?lang={lang}")
    page.fill("#api-key", key)
    page.click("#use-key")
    page.wait_for_selector(f'#type option[value="{PERMIT}"]', state="attached")


def fill_permit(browser: Browser) -> None:
    page = browser.page
    page.select_option("#type", PERMIT)
    for name, value in CLAIMS.items():
        page.fill(f"#claim-{name}", value)


def wait_progress(browser: Browser, word: str) -> None:
    browser.page.wait_for_function(
        f"() => document.getElementById('progress').dataset.progress === '{word}'"
    )


def test_an_offer_shown_as_a_qr_code_is_redeemed_by_the_reference_wallet(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    agency = flows.agency(live)
    sign_in(browser, live, agency["apiKey"])
    page = browser.page
    fill_permit(browser)
    page.click("#create-offer")
    page.wait_for_selector("#shown-offer:not([hidden])")
    page.wait_for_function(
        "() => { const i = document.getElementById('offer-qr');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert page.inner_text("#progress").startswith("Waiting for the citizen's wallet")
    facts = page.inner_text("#offer-facts")
    assert "Residence permit" in facts and "dc+sd-jwt" in facts and "null" not in facts
    uri = page.text_content("#offer-uri") or ""
    assert uri.startswith("openid-credential-offer://?credential_offer_uri=")
    assert page.get_attribute("#same-device", "href") == uri
    src = page.get_attribute("#offer-qr", "src") or ""
    assert src.startswith("/oid4vci/offers/") and src.endswith("/qr?format=svg")

    # What a citizen's phone sees: the code on screen decodes to the offer URI.
    shot = page.locator("#offer-qr").screenshot()
    assert read_qr_on_screen(browser, live, shot) == uri

    pin = page.inner_text("#pin")
    assert re.fullmatch(r"\d{6}", pin)
    page.click("#hide-pin")  # shown once: hidden, it is gone from the page
    assert page.locator("#pin-box").is_hidden() and page.locator("#pin-gone").is_visible()
    assert pin not in page.content()

    folder = tmp_path / "wallet"
    assert len(receive(live.http, uri, pin, folder)) == 1
    wait_progress(browser, "issued")
    assert page.inner_text("#progress") == "Issued: the credential is in the citizen's wallet."
    assert page.locator("#qr-box").is_hidden()
    offer_id = src.split("/")[3]
    status = live.http.get(f"/oid4vci/offers/{offer_id}/status", headers=flows.headers(agency))
    assert len(status.json()["credentialIds"]) == 1  # one credential, recorded and anchored

    # The key reached neither an address, nor the page, nor the local storage.
    key = agency["apiKey"]
    assert key not in page.url and key not in page.content()
    assert page.input_value("#api-key") == ""
    assert all(key not in url for url in browser.requests)
    assert page.evaluate("() => JSON.stringify(localStorage)").find(key) < 0
    assert page.evaluate("() => sessionStorage.getItem('identity-counter-agency-key')") == key


def test_a_deferred_offer_is_approved_at_the_counter_in_chinese(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    agency = flows.agency(live)
    sign_in(browser, live, agency["apiKey"], lang="zh-CN")
    page = browser.page
    fill_permit(browser)
    page.check("#deferred")
    page.uncheck("#use-pin")
    page.click("#create-offer")
    page.wait_for_selector("#shown-offer:not([hidden])")
    assert page.locator("#pin-box").is_hidden()  # no PIN asked for
    uri = page.text_content("#offer-uri") or ""
    assert receive(live.http, uri, None, tmp_path / "wallet") == []  # deferred: nothing yet
    wait_progress(browser, "awaiting_approval")
    assert "经您批准后即发放" in page.inner_text("#progress")
    page.click("#approve")
    wait_progress(browser, "approved")
    assert page.locator("#approve").is_hidden()
    offer_id = (page.get_attribute("#offer-qr", "src") or "").split("/")[3]
    status = live.http.get(f"/oid4vci/offers/{offer_id}/status", headers=flows.headers(agency))
    assert status.json()["approved"] is True


def test_a_refused_key_or_offer_is_said_plainly(browser: Browser, live: Live) -> None:
    sign_in(browser, live, "ik_nosuchkey.secret")
    page = browser.page
    fill_permit(browser)
    page.click("#create-offer")
    page.wait_for_selector("#key-form:not([hidden])")
    assert page.inner_text("#offer-error").startswith("The key was refused")
    assert "ik_nosuchkey" not in page.content()

    agency = flows.agency(live)
    page.fill("#api-key", agency["apiKey"])
    page.click("#use-key")
    page.fill("#claim-permitNumber", "not a permit number")
    page.click("#create-offer")
    page.wait_for_function(
        "() => document.getElementById('offer-error').textContent"
        ".startsWith('The offer was refused')"
    )
    assert page.locator("#shown-offer").is_hidden()


def test_wrong_pins_lock_the_offer_on_screen(browser: Browser, live: Live) -> None:
    agency = flows.agency(live)
    sign_in(browser, live, agency["apiKey"])
    page = browser.page
    fill_permit(browser)
    page.click("#create-offer")
    page.wait_for_selector("#shown-offer:not([hidden])")
    offer_id = (page.get_attribute("#offer-qr", "src") or "").split("/")[3]
    offer = live.http.get(f"/oid4vci/offers/{offer_id}").json()
    code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": code["pre-authorized_code"], "tx_code": "wrong"}  # fmt: skip
    for _ in range(5):
        assert live.http.post("/oid4vci/token", data=form).status_code == 400
    wait_progress(browser, "locked")
    assert page.inner_text("#progress").startswith("Locked: too many wrong PINs")
    assert page.get_attribute("#progress", "class") == "verdict bad"
    assert page.locator("#qr-box").is_hidden() and page.locator("#pin-box").is_hidden()
