"""The citizen portal in Chromium: a key made in the page, sign-in, a credential, a
granted request and the access history checked in the browser -- and a swapped leaf."""

from __future__ import annotations

import json
from typing import Any

from tests.service.directory_helpers import ask, publish
from tests.web import flows
from tests.web.conftest import Browser, Live


def sign_in_with_a_new_key(browser: Browser, live: Live) -> str:
    page = browser.page
    page.goto(live.url + "/wallet")
    page.click("#create-key")
    page.wait_for_selector("#has-key:not([hidden])")
    did = page.inner_text("#did")
    assert did.startswith("did:cityid:")
    page.click("#sign-in")
    page.wait_for_selector("#portal:not([hidden])")
    assert page.inner_text("#wallet-status").startswith("Signed in until")
    return did


def wait_for_history(browser: Browser) -> str:
    browser.page.wait_for_function(
        "() => /(verified in this browser|failed the check|could not be verified|Nobody)/"
        ".test(document.getElementById('history-status').textContent)"
    )
    return browser.page.inner_text("#history-status")


def consented_and_accessed(browser: Browser, live: Live) -> tuple[str, str, dict[str, Any]]:
    """Sign in, receive a credential, grant a request in the page; the data is accessed."""
    holder = flows.agency(live, "Public Security Bureau")
    requester = flows.agency(live, "Education Bureau")
    assert publish(live.http, holder).status_code == 201
    did = sign_in_with_a_new_key(browser, live)
    issued = flows.issue(live, holder, subject=did)
    asked = ask(live.http, requester, did)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    page = browser.page
    page.reload()
    page.wait_for_selector(f'#credentials li[data-credential="{issued["credentialId"]}"]')
    page.click(f'#pending li[data-request="{request_id}"] button:has-text("Grant")')
    page.wait_for_function(
        "() => document.getElementById('wallet-status').textContent.startsWith('You granted')"
    )
    assert (
        live.http.post(
            f"/sharing/requests/{request_id}/approve", headers=flows.headers(holder)
        ).status_code
        == 200
    )
    access = live.http.post(
        f"/sharing/requests/{request_id}/accesses",
        json={"fields": ["fullName", "residenceAddress"]},
        headers=flows.headers(holder),
    )
    assert access.status_code == 201, access.text
    live.settle()
    return did, request_id, issued


def test_sign_in_see_a_credential_grant_and_see_every_act_verified(
    browser: Browser, live: Live
) -> None:
    _, request_id, issued = consented_and_accessed(browser, live)
    page = browser.page
    card = page.locator(f'#credentials li[data-credential="{issued["credentialId"]}"]')
    assert "ResidencePermitCredential" in card.inner_text() and "Valid" in card.inner_text()
    # The hosted wallet keeps the credential: its QR code is rendered by GET …/qr.
    selector = f'#credentials li[data-credential="{issued["credentialId"]}"]'
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/qr")) as answer:
        page.click(f"{selector} >> text=Show QR code")
    assert answer.value.request.method == "GET" and answer.value.status == 200
    assert answer.value.headers["content-type"] == "image/svg+xml"
    image = page.wait_for_selector(f"{selector} .qr img")
    assert image.evaluate("img => img.complete && img.naturalWidth > 100")
    # The file the citizen received can be added too (offered for download from then on).
    credential = json.dumps(issued["verifiableCredential"]).encode()
    page.set_input_files(
        "#import-credential",
        files=[{"name": "permit.json", "mimeType": "application/json", "buffer": credential}],
    )
    page.wait_for_selector(f"{selector} >> text=Download credential")
    page.reload()
    summary = wait_for_history(browser)
    acts = page.locator(f'article[data-request="{request_id}"] li.act')
    kinds = [acts.nth(i).get_attribute("data-kind") for i in range(acts.count())]
    assert kinds == ["sharing.requested", "consent.granted", "sharing.approved", "data.accessed"]
    assert [acts.nth(i).get_attribute("data-state") for i in range(acts.count())] == ["passed"] * 4
    assert summary.startswith("4 act(s) verified in this browser")
    accessed = acts.nth(3).inner_text()
    assert "Education Bureau" in accessed and "fullName, residenceAddress" in accessed
    assert "School enrolment" in accessed and "your consent" in accessed
    # The private key never left the browser: no request carried it.
    assert not [u for u in browser.requests if "privateKey" in u]


def test_a_swapped_leaf_is_marked_failed(browser: Browser, live: Live) -> None:
    _, request_id, _ = consented_and_accessed(browser, live)
    page = browser.page

    def swap_one_leaf(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        history = body["requests"][0]["history"]
        history[3]["leaf"] = history[2]["leaf"]  # the access now shows the approval's leaf
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/wallet/access-history", swap_one_leaf)
    page.reload()
    summary = wait_for_history(browser)
    acts = page.locator(f'article[data-request="{request_id}"] li.act')
    states = [acts.nth(i).get_attribute("data-state") for i in range(acts.count())]
    assert states == ["passed", "passed", "passed", "failed"]
    assert "for another kind of act" in acts.nth(3).inner_text()
    assert summary.startswith("1 of 4 act(s) failed")


def test_refuse_and_withdraw_are_signed_in_the_page_and_verified(
    browser: Browser, live: Live
) -> None:
    holder = flows.agency(live, "Public Security Bureau")
    requester = flows.agency(live, "Education Bureau")
    assert publish(live.http, holder).status_code == 201
    did = sign_in_with_a_new_key(browser, live)
    refused_id = ask(live.http, requester, did).json()["id"]
    granted_id = ask(live.http, requester, did, purpose="Housing subsidy").json()["id"]
    page = browser.page
    page.on("dialog", lambda dialog: dialog.accept())  # "Withdraw your consent?"
    page.reload()
    page.click(f'#pending li[data-request="{refused_id}"] button:has-text("Refuse")')
    page.wait_for_function(
        "() => document.getElementById('wallet-status').textContent.startsWith('You refused')"
    )
    page.click(f'#pending li[data-request="{granted_id}"] button:has-text("Grant")')
    page.wait_for_function(
        "() => document.getElementById('wallet-status').textContent.startsWith('You granted')"
    )
    page.click(f'#pending li[data-request="{granted_id}"] button:has-text("Withdraw")')
    page.wait_for_function(
        "() => document.getElementById('wallet-status').textContent.includes('withdrawn')"
    )
    live.settle()
    page.reload()
    assert wait_for_history(browser).startswith("5 act(s) verified in this browser")
    refused = page.locator(f'article[data-request="{refused_id}"] li.act')
    assert [refused.nth(i).get_attribute("data-kind") for i in range(2)] == [
        "sharing.requested",
        "consent.refused",
    ]
    withdrawn = page.locator(f'article[data-request="{granted_id}"]')
    assert "Consent withdrawn" in withdrawn.inner_text()
    assert page.locator('li.act[data-state="passed"]').count() == 5
    assert not page.locator(f'#pending li[data-request="{refused_id}"]').count()
