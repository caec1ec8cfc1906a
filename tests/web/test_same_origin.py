"""No request leaves the service's origin: every request the browser makes while using
the three pages is recorded and checked (the ``browser`` fixture checks it for every
test; this one walks all pages in both languages and tries to reach out on purpose)."""

from __future__ import annotations

import json

from tests.web import flows
from tests.web.conftest import Browser, Live


def test_every_request_of_every_page_stays_on_the_service_origin(
    browser: Browser, live: Live
) -> None:
    issued = flows.issue(live, flows.agency(live))
    page = browser.page
    for language in ("en", "zh-CN"):
        page.goto(f"{live.url}/verify?lang={language}")
        page.fill("#document", json.dumps(issued["verifiableCredential"]))
        page.click("#verify-button")
        page.wait_for_selector('#checks li[data-check="browserAnchor"]')
        page.goto(f"{live.url}/log?lang={language}")
        page.wait_for_selector("#entries tr")
        page.goto(f"{live.url}/wallet?lang={language}")
        page.wait_for_selector("#create-key")
    page.click("#create-key")
    page.click("#sign-in")
    page.wait_for_selector("#portal:not([hidden])")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    # The content security policy stops a script from reaching anywhere else.
    blocked = page.evaluate(
        "() => fetch('https://cdn.example.org/x.js').then(() => 'fetched', () => 'blocked')"
    )
    assert blocked == "blocked"
    paths = {u.removeprefix(live.url) for u in browser.requests}
    assets = {"/web-assets/css/site.css", "/web-assets/js/crypto.js", "/web-assets/vendor/jsQR.js"}
    assert assets <= paths
    assert any(p.startswith("/auth/token") for p in paths)
    foreign = [u for u in browser.requests if not u.startswith(live.url + "/")]
    assert foreign == []
