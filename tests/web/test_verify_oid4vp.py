"""The verifier page's "Ask a wallet (OpenID4VP)" mode in Chromium: the page builds the
DCQL query and shows the request's QR code, the reference wallet presents from its
folder, and the page shows the verdict, every check and exactly the requested claims; a
wallet that declines, and a request that expires, show a failed verdict."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from identity.dids.key import did_from_key
from identity.jose.keys import PublicJwk, SigningKey
from identity.wallet_client.folder import HOLDER_KEY_FILE, entry, entry_name
from identity.wallet_client.presentation import build_response, verify_request_object
from service.cli_wallet import answer, read_folder
from tests.web import flows
from tests.web.conftest import Browser, Live
from tests.web.wallets import PERMIT, read_qr_on_screen, verifier, wallet_with_permit

SD_JWT_CHECKS = ["wellFormed", "signature", "disclosures", "validity", "keyBinding", "status",
                 "issuerTrust", "anchor"]  # fmt: skip
CLAIM_NAMES = "d => d.map((x) => x.dataset.claim)"
VERDICT = "() => !/^(Waiting|The wallet opened|Creating)/.test(document.getElementById('verdict').textContent)"  # noqa: E501


def ask(
    browser: Browser,
    live: Live,
    key: str,
    claims: list[str],
    *,
    come_back: bool = False,
    template: str | None = None,
    lang: str | None = None,
    fmt: str | None = None,
) -> str:
    """Ask for ``claims`` of a residence permit; the openid4vp:// URI the page shows."""
    page = browser.page
    page.goto(live.url + "/verify" + (f"?lang={lang}" if lang else ""))
    page.fill("#vp-key", key)
    page.click("#vp-use-key")
    page.wait_for_selector(f'#vp-type option[value="{PERMIT}"]', state="attached")
    if template:
        page.select_option("#vp-template", template)
    else:
        page.select_option("#vp-type", PERMIT)
    if fmt:
        page.select_option("#vp-format", fmt)
    for name in claims:
        page.check(f"#vp-claim-{name}")
    if come_back:
        page.check("#vp-return")
    page.click("#vp-ask")
    page.wait_for_selector("#vp-request:not([hidden])")
    page.wait_for_function(
        "() => { const i = document.getElementById('vp-qr');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    if lang is None:
        assert page.inner_text("#verdict").startswith("Waiting for the citizen's wallet")
    link = page.get_attribute("#vp-same-device", "href") or ""
    assert link.startswith("openid4vp://?")
    return link


def test_a_wallet_presents_exactly_the_requested_claims(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    folder = tmp_path / "wallet"
    wallet_with_permit(live, folder)
    key = verifier(live)
    uri = ask(browser, live, key, ["fullName", "dateOfBirth", "residenceAddress"])
    page = browser.page
    # Cross-device: the code on screen is the same request as the same-device link.
    assert read_qr_on_screen(browser, live, page.locator("#vp-qr").screenshot()) == uri
    assert src_is_blob(page.get_attribute("#vp-qr", "src"))

    assert answer(uri, folder, live.http) == {}  # the reference wallet, from its folder
    page.wait_for_function(VERDICT)
    assert page.inner_text("#verdict") == "Valid: every check passed."
    assert page.get_attribute("#verdict", "role") == "status"
    states = page.eval_on_selector_all(
        "#checks li", "items => items.map((li) => [li.dataset.check, li.dataset.state])"
    )
    assert [name for name, _ in states] == [*SD_JWT_CHECKS, "vpRequest"]
    assert {state for name, state in states if name != "anchor"} == {"passed"}
    assert "over this counter's challenge" in page.inner_text('#checks [data-check="keyBinding"]')
    shown = page.eval_on_selector_all(
        "#claims dt[data-claim]", "d => d.map((x) => x.dataset.claim)"
    )
    assert shown == ["dateOfBirth", "fullName", "residenceAddress"]  # exactly what was asked
    claims = page.inner_text("#claims")
    assert "1990-02-03" in claims and "1 Hengshan Rd, Xuhui" in claims and "李雷" in claims
    tags = page.eval_on_selector_all(
        "#claims dd[data-claim]", "d => d.map((x) => [x.dataset.claim, !!x.querySelector('.tag')])"
    )
    assert tags == [["dateOfBirth", True], ["fullName", False], ["residenceAddress", True]]
    assert "SH2026001" not in claims and "Date of birth" in claims  # display names
    assert page.locator("#vp-qr-box").is_hidden()  # the code is spent
    assert key not in page.content() and all(key not in u for u in browser.requests)
    assert page.input_value("#vp-key") == ""


def src_is_blob(src: str | None) -> bool:
    return bool(src and src.startswith("blob:"))


def decline(uri: str, live: Live) -> None:
    """A wallet that fetches the request and answers ``access_denied`` (§8.5)."""
    params = dict(parse_qsl(urlsplit(uri).query))
    fetched = live.http.post(params["request_uri"], data={"wallet_nonce": "w" * 22})
    assert fetched.status_code == 200, fetched.text
    request = verify_request_object(fetched.text, params["client_id"], now=int(time.time()))
    posted = live.http.post(
        request["response_uri"],
        data={"error": "access_denied", "error_description": "the citizen said no",
              "state": request["state"]},
    )  # fmt: skip
    assert posted.status_code == 200, posted.text


def test_a_declined_presentation_shows_a_failed_verdict(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    uri = ask(browser, live, verifier(live), ["dateOfBirth"])
    decline(uri, live)
    page = browser.page
    page.wait_for_function(VERDICT)
    assert page.inner_text("#verdict") == (
        "Not valid: the citizen's wallet declined to present (access_denied)."
    )
    assert page.get_attribute("#verdict", "class") == "verdict bad"
    item = page.locator('#checks [data-check="vpRequest"]')
    assert item.get_attribute("data-state") == "failed"
    assert "the citizen said no" in item.inner_text()
    assert page.inner_text("#claims") == ""


def test_an_expired_request_shows_a_failed_verdict(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    ask(browser, live, verifier(live), [], template="residence")
    page = browser.page
    facts = page.inner_text("#vp-facts")
    assert "Residence permit" in facts and "Full name, Residence address" in facts
    live.clock.at += timedelta(seconds=301)  # past the request's 300 s
    page.wait_for_function(VERDICT)
    assert page.inner_text("#verdict").startswith("Not valid: the request expired")
    assert page.locator("#vp-qr-box").is_hidden()


def test_same_device_the_wallet_sends_the_citizen_back_with_the_response_code(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    folder = tmp_path / "wallet"
    wallet_with_permit(live, folder)
    key = verifier(live)
    uri = ask(browser, live, key, ["dateOfBirth"], come_back=True)
    page = browser.page
    back = answer(uri, folder, live.http)["redirect_uri"]  # the wallet's redirect (§8.2)
    assert back.startswith(live.url + "/verify#response_code=")
    page.wait_for_function(
        "() => document.getElementById('verdict').textContent.startsWith('The wallet answered')"
    )
    page.goto(live.url + "/log")  # the citizen was in the wallet app meanwhile
    page.goto(back)  # which sends the browser back to the page (a fresh load)
    page.wait_for_selector("#verdict.ok")
    assert page.inner_text("#verdict") == "Valid: every check passed."
    shown = page.eval_on_selector_all("#claims dt[data-claim]", CLAIM_NAMES)
    assert shown == ["dateOfBirth"]
    assert "response_code" not in page.url  # taken out of the address at once
    assert key not in page.content()


def mistaken_wallet(uri: str, live: Live, folder: Path) -> str:
    """A wallet that signs its Key Binding JWT for the bare DID instead of the full
    ``client_id`` (§B.3.6): the Response Endpoint refuses it; the error it got."""
    params = dict(parse_qsl(urlsplit(uri).query))
    fetched = live.http.post(params["request_uri"], data={"wallet_nonce": "m" * 22})
    assert fetched.status_code == 200, fetched.text
    request = verify_request_object(fetched.text, params["client_id"], now=int(time.time()))
    held, key = read_folder(folder)
    bare = request["client_id"].removeprefix("decentralized_identifier:")
    form = build_response({**request, "client_id": bare}, held, key, now=int(time.time()))
    posted = live.http.post(request["response_uri"], data=form)
    assert posted.status_code == 400, posted.text
    return str(posted.json()["error_description"])


REFUSED = "() => /refused/.test(document.getElementById('verdict').textContent)"


def test_a_refused_answer_shows_at_once_and_a_correct_one_still_verifies(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    folder = tmp_path / "wallet"
    wallet_with_permit(live, folder)
    uri = ask(browser, live, verifier(live), ["dateOfBirth"])
    told = mistaken_wallet(uri, live, folder)
    page = browser.page
    page.wait_for_function(REFUSED)  # well before the request's 300 s expiry
    assert page.inner_text("#verdict") == (
        "Not valid: a wallet's answer was refused (invalid_request, sd-jwt-key-binding)."
        " The request stays open for a correct answer until it expires."
    )
    assert page.get_attribute("#verdict", "class") == "verdict bad"
    item = page.locator('#checks [data-check="vpRequest"]')
    assert item.get_attribute("data-state") == "failed"
    text = item.inner_text()
    assert told in text and "1 so far" in text and "Failed check: sd-jwt-key-binding" in text
    assert page.inner_text("#claims") == ""
    assert page.locator("#vp-qr-box").is_visible()  # still open

    assert answer(uri, folder, live.http) == {}  # the citizen's wallet, done right
    page.wait_for_function(
        "() => document.getElementById('verdict').textContent.startsWith('Valid')"
    )
    assert page.inner_text("#verdict") == "Valid: every check passed."
    shown = page.eval_on_selector_all("#claims dt[data-claim]", CLAIM_NAMES)
    assert shown == ["dateOfBirth"]


def test_a_refused_answer_is_shown_in_chinese(browser: Browser, live: Live, tmp_path: Path) -> None:
    folder = tmp_path / "wallet"
    wallet_with_permit(live, folder)
    uri = ask(browser, live, verifier(live), ["dateOfBirth"], lang="zh-CN")
    mistaken_wallet(uri, live, folder)
    page = browser.page
    page.wait_for_function("() => /被拒绝/.test(document.getElementById('verdict').textContent)")
    assert page.inner_text("#verdict") == (
        "无效：钱包的答复被拒绝（invalid_request，sd-jwt-key-binding）。"
        "请求在过期前仍可接受正确的答复。"
    )
    text = page.inner_text('#checks [data-check="vpRequest"]')
    assert "迄今 1 次" in text and "未通过的检查：sd-jwt-key-binding" in text


def ldp_wallet(live: Live, folder: Path) -> str:
    """A folder holding a residence permit as an ``ldp_vc`` (JSON-LD, Data Integrity) for
    an Ed25519 holder key; the holder's did:key."""
    holder = SigningKey.generate_ed25519()
    did = did_from_key(PublicJwk.from_dict(holder.public_jwk.to_dict()).ed25519())
    issued = flows.issue(live, flows.agency(live), subject=did)
    folder.mkdir()
    vc = issued["verifiableCredential"]
    (folder / entry_name(vc)).write_bytes(entry("ldp_vc", PERMIT, vc["issuer"], vc, None))
    (folder / HOLDER_KEY_FILE).write_text(json.dumps(holder.private_jwk()))
    return did


def test_the_reference_wallet_presents_an_ldp_vc_over_http(live: Live, tmp_path: Path) -> None:
    folder = tmp_path / "wallet"
    did = ldp_wallet(live, folder)
    asked = {"id": "permit", "format": "ldp_vc",
             "meta": {"type_values": [["VerifiableCredential", PERMIT]]},
             "claims": [{"path": ["credentialSubject", "fullName"]}]}  # fmt: skip
    query = {"credentials": [asked]}
    key = {"Authorization": f"Bearer {verifier(live)}"}
    created = live.http.post("/oid4vp/requests", json={"dcql_query": query}, headers=key)
    assert created.status_code == 201, created.text
    made = created.json()
    assert answer(made["authorizationRequest"], folder, live.http) == {}
    body = live.http.get(made["result"], headers=key).json()
    assert body["status"] == "answered" and body["verified"] is True
    permit = body["credentials"]["permit"][0]
    assert permit["format"] == "ldp_vc" and permit["holder"] == did
    assert permit["claims"]["fullName"] == "Li Lei"
    again = live.http.get(made["request_uri"])  # single use holds for ldp_vc too
    assert again.status_code == 400


def test_the_page_shows_an_ldp_vc_presented_by_the_reference_wallet(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    folder = tmp_path / "wallet"
    did = ldp_wallet(live, folder)
    uri = ask(browser, live, verifier(live), ["fullName", "dateOfBirth"], fmt="ldp_vc")
    assert answer(uri, folder, live.http) == {}
    page = browser.page
    page.wait_for_function(VERDICT)
    assert page.inner_text("#verdict") == (
        f"Valid presentation by {did}, with 1 credential(s); every check passed."
    )
    states = page.eval_on_selector_all(
        "#checks li", "items => items.map((li) => [li.dataset.check, li.dataset.state])"
    )
    assert [name for name, _ in states] == [
        "wellFormed", "holderProof", "credentials", "challenge", "vpRequest"
    ]  # fmt: skip
    assert {state for _, state in states} == {"passed"}
    claims = page.inner_text("#claims")
    assert "Li Lei" in claims and "1990-02-03" in claims
