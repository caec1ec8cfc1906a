"""QR round trip: the service renders a credential its hosted wallet keeps as a PNG QR code
(``GET /wallet/credentials/{id}/qr``), the verifier page reads the image from its upload
and verifies the credential."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import segno

from identity.credentials import qrcode
from tests.service.directory_helpers import Citizen
from tests.web import flows
from tests.web.conftest import Browser, Live, open_browser


def test_the_service_png_read_by_the_verifier_page_verifies(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    citizen = Citizen(seed=11)
    citizen.register(live.http)  # type: ignore[arg-type]
    issued = flows.issue(live, flows.agency(live), subject=citizen.did)
    headers = citizen.headers(live.http, live.clock.now())  # type: ignore[arg-type]
    response = live.http.get(  # the hosted wallet's copy: no credential sent
        f"/wallet/credentials/{issued['credentialId']}/qr",
        params={"format": "png"},
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


def y4m_of(payload: str, path: Path, width: int = 640, height: int = 480) -> None:
    """A still video (YUV4MPEG2, 4:2:0) of the QR code of ``payload``, for Chromium's
    fake camera: black modules on white, centred."""
    matrix = segno.make(payload, mode="alphanumeric", error="l", micro=False).matrix
    modules = len(matrix) + 8  # quiet zone
    scale = min(width, height) // modules
    left, top = (width - modules * scale) // 2, (height - modules * scale) // 2
    luma = bytearray(b"\xff" * (width * height))
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                for y in range(top + (r + 4) * scale, top + (r + 5) * scale):
                    start = y * width + left + (c + 4) * scale
                    luma[start : start + scale] = b"\x00" * scale
    chroma = b"\x80" * (width * height // 4)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 5)


def test_the_camera_scan_reads_and_verifies_a_credential(
    playwright: Any, live: Live, tmp_path: Path
) -> None:
    issued = flows.issue(live, flows.agency(live))
    video = tmp_path / "qr.y4m"
    y4m_of(qrcode.encode(issued["verifiableCredential"]), video)
    camera = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    with open_browser(playwright, live, tmp_path / "profile", camera) as browser:
        browser.context.grant_permissions(["camera"], origin=live.url)
        page = browser.page
        page.goto(live.url + "/verify")
        page.click("#scan")
        page.wait_for_function(
            "() => /^(Valid|Not valid|Could not)/.test("
            "document.getElementById('verdict').textContent)"
        )
        assert page.inner_text("#verdict") == "Valid: every check passed."
        assert page.locator("#camera-box").is_hidden()
        assert page.input_value("#document").startswith("VC1:")


def test_a_credential_file_chosen_on_the_page_verifies(browser: Browser, live: Live) -> None:
    issued = flows.issue(live, flows.agency(live))
    page = browser.page
    page.goto(live.url + "/verify")
    document = json.dumps(issued["verifiableCredential"]).encode()
    page.set_input_files(
        "#file", files=[{"name": "permit.json", "mimeType": "application/json", "buffer": document}]
    )
    page.wait_for_function(
        "() => document.getElementById('verdict').textContent.startsWith('Valid')"
    )
