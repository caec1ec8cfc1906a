"""The reference wallet end to end: `identity wallet receive` takes a credential over
OpenID4VCI into a folder, and `identity wallet present` answers an OpenID4VP request
from that same folder, disclosing only what the query asks."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from identity.clock import FixedClock
from service.cli_wallet import answer
from service.wallet_cli import receive
from tests.service.conftest import admin, make_issuer

TYPE = "ResidencePermitCredential"
CLAIMS = {
    "fullName": "李雷",
    "dateOfBirth": "1990-02-03",
    "residenceAddress": "Xuhui",
    "permitNumber": "SH2026001",
}


def test_a_credential_received_over_oid4vci_is_presented_over_oid4vp(
    client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    now = int(time.time())
    clock.at = datetime.fromtimestamp(now, UTC)  # the CLI signs with real time
    agency = make_issuer(client)
    offered = client.post(
        "/oid4vci/offers",
        json={"type": TYPE, "claims": CLAIMS, "formats": ["dc+sd-jwt"]},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert offered.status_code == 201, offered.text
    folder = tmp_path / "wallet"
    made = offered.json()
    assert len(receive(client, made["offerUri"], made["txCode"], folder, lambda: now)) == 1

    made_verifier = client.post("/verifiers", json={"name": "Counter"}, headers=admin())
    assert made_verifier.status_code == 201, made_verifier.text
    verifier = {"Authorization": f"Bearer {made_verifier.json()['apiKey']}"}
    base = str(client.app.state.services.settings.public_url).rstrip("/")  # type: ignore[attr-defined]
    query: dict[str, Any] = {
        "credentials": [
            {
                "id": "permit",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [f"{base}/vct/{TYPE}"]},
                "claims": [{"path": ["dateOfBirth"]}, {"path": ["residenceAddress"]}],
            }
        ]
    }
    created = client.post("/oid4vp/requests", json={"dcql_query": query}, headers=verifier)
    assert created.status_code == 201, created.text
    request = created.json()
    assert answer(request["authorizationRequest"], folder, client) == {}

    body = client.get(urlsplit(request["result"]).path, headers=verifier).json()
    assert body["status"] == "answered" and body["verified"] is True
    permit = body["credentials"]["permit"][0]
    assert permit["claims"] == {"dateOfBirth": "1990-02-03", "residenceAddress": "Xuhui"}
    assert "fullName" not in str(permit) and "SH2026001" not in str(permit)
