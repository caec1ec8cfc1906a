"""The log explorer in Chromium: checkpoint signature, inclusion and consistency proofs
checked in the browser -- and a proof altered on the way is caught there."""

from __future__ import annotations

import json
from typing import Any

from tests.web import flows
from tests.web.conftest import Browser, Live


def grown_log(live: Live) -> tuple[int, int, dict[str, Any]]:
    issuer = flows.agency(live)
    flows.issue(live, issuer)
    live.settle()
    first = live.services.logs.log.checkpoint.checkpoint.size
    for _ in range(4):
        issued = flows.issue(live, issuer)
    live.settle()
    return first, live.services.logs.log.checkpoint.checkpoint.size, issued


def open_explorer(browser: Browser, live: Live) -> None:
    browser.page.goto(live.url + "/log")
    browser.page.wait_for_function(
        "() => /Signature verified|could not/.test("
        "document.getElementById('checkpoint-status').textContent)"
    )


def test_the_checkpoint_and_an_inclusion_proof_are_checked_in_the_browser(
    browser: Browser, live: Live
) -> None:
    _, size, issued = grown_log(live)
    open_explorer(browser, live)
    page = browser.page
    assert page.inner_text("#checkpoint-status").startswith("Signature verified in this browser")
    assert str(size) in page.inner_text("#checkpoint")
    assert page.locator("#entries tr").count() == size
    page.select_option("#kind", "credential.issued")
    assert page.locator("#entries tr").count() == 5
    index = issued["receipt"]["index"]
    page.fill("#lookup", str(index))
    page.click("#lookup-form button")
    result = page.wait_for_selector("#lookup-result [data-state]")
    assert result.get_attribute("data-state") == "passed"
    assert f"Entry {index} is in the log" in result.inner_text()
    # By leaf hash, as printed on a receipt.
    page.fill("#lookup", issued["receipt"]["leafHash"])
    page.click("#lookup-form button")
    page.wait_for_function(
        "() => document.querySelector('#lookup-result [data-state]')"
        f".textContent.includes('Entry {index} is in the log')"
    )


def test_a_consistency_check_between_two_sizes(browser: Browser, live: Live) -> None:
    first, second, _ = grown_log(live)
    open_explorer(browser, live)
    page = browser.page
    page.fill("#first", str(first))
    page.fill("#second", str(second))
    page.click("#consistency-form button")
    result = page.wait_for_selector("#consistency-result [data-state]")
    assert result.get_attribute("data-state") == "passed"
    text = result.inner_text()
    assert f"the log at size {first} is a prefix of the log at size {second}" in text
    assert "The later root is the one in the signed checkpoint" in text


def test_altered_proofs_fail_in_the_browser(browser: Browser, live: Live) -> None:
    first, second, issued = grown_log(live)
    page = browser.page

    def alter(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["path"][0] = "00" * 32
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/log/proofs/**", alter)
    open_explorer(browser, live)
    page.fill("#lookup", str(issued["receipt"]["index"]))
    page.click("#lookup-form button")
    result = page.wait_for_selector("#lookup-result [data-state]")
    assert result.get_attribute("data-state") == "failed"
    assert "does not lead to the root" in result.inner_text()
    page.fill("#first", str(first))
    page.fill("#second", str(second))
    page.click("#consistency-form button")
    result = page.wait_for_selector("#consistency-result [data-state]")
    assert result.get_attribute("data-state") == "failed"
    assert "does not verify" in result.inner_text()
