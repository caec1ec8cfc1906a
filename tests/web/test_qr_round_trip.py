"""QR round trip: the service renders a credential's QR code as PNG, the verifier page
reads the image from its upload and verifies the credential."""

from __future__ import annotations

from pathlib import Path

from tests.service.directory_helpers import Citizen
from tests.web import flows
from tests.web.conftest import Browser, Live


def test_the_service_png_read_by_the_verifier_page_verifies(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    citizen = Citizen(seed=11)
    citizen.register(live.http)  # type: ignore[arg-type]
    issued = flows.issue(live, flows.agency(live), subject=citizen.did)
    headers = citizen.headers(live.http, live.clock.now())  # type: ignore[arg-type]
    response = live.http.post(
        f"/wallet/credentials/{issued['credentialId']}/qr",
        params={"format": "png"},
        json=issued["verifiableCredential"],
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = tmp_path / "permit-qr.png"
    image.write_bytes(response.content)

    page = browser.page
    page.goto(live.url + "/verify")
    page.set_input_files("#photo", str(image))
    page.wait_for_function(
        "() => /^(Valid|Not valid|Could not|No QR)/.test("
        "document.getElementById('verdict').textContent)"
    )
    assert page.inner_text("#verdict") == "Valid: every check passed."
    assert page.input_value("#document").startswith("VC1:")
    assert "SH2026001" in page.inner_text("#claims")
