"""An OpenID4VP result shows every claim the query asked for, an always-disclosed one
(``fullName`` of a residence permit) included, and nothing that was not asked."""

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
from tests.service.test_reference_wallet import CLAIMS, TYPE


def test_an_asked_always_disclosed_claim_is_in_the_result(
    client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    now = int(time.time())
    clock.at = datetime.fromtimestamp(now, UTC)  # the wallet signs with real time
    agency = make_issuer(client)
    offered = client.post(
        "/oid4vci/offers",
        json={"type": TYPE, "claims": CLAIMS},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    ).json()
    folder = tmp_path / "wallet"
    assert len(receive(client, offered["offerUri"], offered["txCode"], folder, lambda: now)) == 1
    key = client.post("/verifiers", json={"name": "Counter"}, headers=admin()).json()["apiKey"]
    verifier = {"Authorization": f"Bearer {key}"}
    base = str(client.app.state.services.settings.public_url).rstrip("/")  # type: ignore[attr-defined]
    query: dict[str, Any] = {
        "credentials": [
            {
                "id": "permit",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [f"{base}/vct/{TYPE}"]},
                "claims": [{"path": ["fullName"]}, {"path": ["dateOfBirth"]}],
            }
        ]
    }
    request = client.post("/oid4vp/requests", json={"dcql_query": query}, headers=verifier).json()
    assert answer(request["authorizationRequest"], folder, client) == {}
    permit = client.get(urlsplit(request["result"]).path, headers=verifier).json()
    permit = permit["credentials"]["permit"][0]
    assert permit["claims"] == {"dateOfBirth": "1990-02-03", "fullName": "李雷"}
    assert permit["disclosed"] == ["dateOfBirth"]  # fullName needed no disclosure
    assert "SH2026001" not in str(permit) and "Xuhui" not in str(permit)
