"""What the counter tests share: a QR code read back from the screen, a verifier made
by the operator, a credential put in a reference wallet's folder over OpenID4VCI."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from service.wallet_cli import receive
from tests.web import flows
from tests.web.conftest import Browser, Live

PERMIT = "ResidencePermitCredential"
CLAIMS = {
    "fullName": "李雷",
    "dateOfBirth": "1990-02-03",
    "residenceAddress": "1 Hengshan Rd, Xuhui",
    "permitNumber": "SH2026001",
}
DECODE = """async (b64) => {
  const { readImageFile } = await import("/web-assets/js/qr.js");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return readImageFile(new Blob([bytes], { type: "image/png" }));
}"""


def read_qr_on_screen(browser: Browser, live: Live, png: bytes) -> str | None:
    """The text of the QR code in a screenshot, decoded by the verifier page's own reader
    (jsQR, in a second tab of the same browser)."""
    reader = browser.context.new_page()
    try:
        reader.goto(live.url + "/verify")
        reader.wait_for_function("() => typeof jsQR === 'function'")
        text: str | None = reader.evaluate(DECODE, base64.b64encode(png).decode())
        return text
    finally:
        reader.close()


def verifier(live: Live, name: str = "Counter 3, Xuhui") -> str:
    """A verifier API key made by the operator."""
    made = live.http.post("/verifiers", json={"name": name}, headers=flows.ADMIN_HEADERS)
    assert made.status_code == 201, made.text
    return str(made.json()["apiKey"])


def wallet_with_permit(live: Live, folder: Path, claims: dict[str, Any] | None = None) -> None:
    """A residence permit (dc+sd-jwt) received into ``folder`` by the reference wallet."""
    agency = flows.agency(live)
    offered = live.http.post(
        "/oid4vci/offers",
        json={"type": PERMIT, "claims": claims or CLAIMS, "formats": ["dc+sd-jwt"]},
        headers=flows.headers(agency),
    )
    assert offered.status_code == 201, offered.text
    made = offered.json()
    assert len(receive(live.http, made["offerUri"], made["txCode"], folder)) == 1
