"""Take the README's screenshots of the pages with headless Debian Chromium.

Usage: .venv/bin/python scripts/screenshots.py [out dir, default docs/screenshots]
Serves the app on a free loopback port with demo data (tests/web's helpers), then shows
each page doing its job: a credential verified, the portal after a granted request, the
log explorer with an inclusion proof and a consistency check checked in the browser.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.service.directory_helpers import ask, publish  # noqa: E402
from tests.web import flows  # noqa: E402
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, Live, serve  # noqa: E402


def main(out: Path) -> None:  # noqa: PLR0915 (one page after the other)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as live, sync_playwright() as p:
        holder = flows.agency(live, "Public Security Bureau")
        requester = flows.agency(live, "Education Bureau")
        publish(live.http, holder)
        issued = flows.issue(live, holder)
        context = p.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            chromium_sandbox=False,
            args=CHROMIUM_ARGS,
            locale="en-GB",
            viewport={"width": 1000, "height": 800},
        )
        page = context.pages[0]

        page.goto(live.url + "/verify")
        page.fill("#document", json.dumps(issued["verifiableCredential"], indent=2))
        page.click("#verify-button")
        page.wait_for_selector('#checks li[data-check="browserAnchor"]')
        page.screenshot(path=str(out / "verify.png"), full_page=True)

        page.goto(live.url + "/wallet")
        page.click("#create-key")
        page.click("#sign-in")
        page.wait_for_selector("#portal:not([hidden])")
        did = page.inner_text("#did")
        mine = flows.issue(live, holder, subject=did)
        request_id = ask(live.http, requester, did).json()["id"]
        page.reload()
        page.click(f'#pending li[data-request="{request_id}"] button.primary')
        page.wait_for_selector("#wallet-status.ok")
        live.http.post(f"/sharing/requests/{request_id}/approve", headers=flows.headers(holder))
        live.http.post(
            f"/sharing/requests/{request_id}/accesses",
            json={"fields": ["fullName", "residenceAddress"]},
            headers=flows.headers(holder),
        )
        ask(live.http, requester, did, purpose="Housing subsidy application")
        live.settle()
        page.reload()
        page.set_input_files(
            "#import-credential",
            files=[
                {
                    "name": "permit.json",
                    "mimeType": "application/json",
                    "buffer": json.dumps(mine["verifiableCredential"]).encode(),
                }
            ],
        )
        card = f'#credentials li[data-credential="{mine["credentialId"]}"]'
        page.click(f"{card} >> text=Show QR code")
        page.wait_for_selector(f"{card} .qr img")
        page.wait_for_selector("#history-status.ok")
        page.screenshot(path=str(out / "wallet.png"), full_page=True)

        page.goto(live.url + "/log")
        page.wait_for_selector("#entries tr")
        page.fill("#lookup", str(issued["receipt"]["index"]))
        page.click("#lookup-form button")
        page.wait_for_selector("#lookup-result [data-state]")
        page.fill("#first", "3")
        page.click("#consistency-form button")
        page.wait_for_selector("#consistency-result [data-state]")
        page.screenshot(path=str(out / "log.png"), full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live.url + "/verify?lang=zh-CN")
        page.fill("#document", json.dumps(issued["verifiableCredential"]))
        page.click("#verify-button")
        page.wait_for_selector('#checks li[data-check="browserAnchor"]')
        page.screenshot(path=str(out / "verify-zh-mobile.png"), full_page=True)
        context.close()
        counter_pages(p, live, Path(tmp), out)


def counter_pages(p: Any, live: Live, tmp: Path, out: Path) -> None:
    """The agency counter with an offer on screen (QR code and PIN), and the verifier page
    after the reference wallet presented over OpenID4VP (docs/web.md)."""
    from service.cli_wallet import answer
    from tests.web.wallets import CLAIMS, PERMIT, verifier, wallet_with_permit

    context = p.chromium.launch_persistent_context(
        str(tmp / "profile-counter"),
        executable_path=str(CHROMIUM),
        headless=True,
        chromium_sandbox=False,
        args=CHROMIUM_ARGS,
        locale="en-GB",
        viewport={"width": 1000, "height": 800},
    )
    page = context.pages[0]
    page.goto(live.url + "/counter")
    page.fill("#api-key", flows.agency(live, "Xuhui Entry-Exit Bureau")["apiKey"])
    page.click("#use-key")
    page.wait_for_selector(f'#type option[value="{PERMIT}"]', state="attached")
    page.select_option("#type", PERMIT)
    for name, value in CLAIMS.items():
        page.fill(f"#claim-{name}", value)
    page.click("#create-offer")
    page.wait_for_selector("#shown-offer:not([hidden])")
    page.wait_for_function("() => document.getElementById('offer-qr').naturalWidth > 0")
    page.screenshot(path=str(out / "counter.png"), full_page=True)

    folder = tmp / "wallet"
    wallet_with_permit(live, folder)
    page.goto(live.url + "/verify")
    page.fill("#vp-key", verifier(live))
    page.click("#vp-use-key")
    page.wait_for_selector(f'#vp-type option[value="{PERMIT}"]', state="attached")
    page.select_option("#vp-type", PERMIT)
    for name in ("fullName", "dateOfBirth", "residenceAddress"):
        page.check(f"#vp-claim-{name}")
    page.click("#vp-ask")
    page.wait_for_selector("#vp-request:not([hidden])")
    answer(page.get_attribute("#vp-same-device", "href") or "", folder, live.http)
    page.wait_for_selector("#verdict.ok")
    page.screenshot(path=str(out / "verify-oid4vp.png"), full_page=True)
    context.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
