"""The verifier reports every failed check (VC DM 2.0 §7.1), not just the first: status,
issuer trust and anchor run even when the proof or the validity period failed; a check
that needs a verified proof is reported as skipped, with the reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import PROBLEMS, VC_DI, VC_DM
from tests.service.conftest import credential_for, issue, make_issuer


def _expiring_revoked(client: TestClient, clock: FixedClock) -> dict[str, Any]:
    """A credential valid for one day, revoked, seen two days later."""
    agency = make_issuer(client)
    credential = credential_for(agency["did"], validUntil="2026-06-02T12:00:00Z")
    issued = issue(client, agency, credential)
    assert issued.status_code == 201, issued.text
    revoked = client.post(
        "/credentials/status",
        json={
            "credentialId": issued.json()["credentialId"],
            "credentialStatus": [{"status": "revoked"}],
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert revoked.status_code == 200, revoked.text
    clock.advance(timedelta(days=2))
    vc: dict[str, Any] = issued.json()["verifiableCredential"]
    return vc


def _verify(client: TestClient, vc: dict[str, Any], **options: Any) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": vc, "options": options})


def _failed(body: dict[str, Any]) -> list[str]:
    return [p["check"] for p in body["problemDetails"]]


def test_expired_and_revoked_reports_both(client: TestClient, clock: FixedClock) -> None:
    response = _verify(client, _expiring_revoked(client, clock))
    assert response.status_code == 422
    body = response.json()
    assert body["verified"] is False
    assert body["type"] == VC_DM + "RANGE_ERROR"  # the first failed check's type
    assert _failed(body) == ["validityPeriod", "status"]
    assert body["problemDetails"][1]["type"] == PROBLEMS + "credential-status"
    results = body["results"]
    assert results["proof"]["valid"] and results["issuer"]["valid"]
    assert results["validityPeriod"]["valid"] is False
    assert results["status"]["valid"] is False
    assert "issuerTrust" in results and results["issuerTrust"]["accredited"] is True
    assert results["anchor"]["valid"] is True


def test_a_failed_proof_still_runs_every_check_that_can_run(
    client: TestClient, clock: FixedClock
) -> None:
    vc = _expiring_revoked(client, clock)
    vc["credentialSubject"]["fullName"] = "Han Meimei"
    response = _verify(client, vc)
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == VC_DI + "PROOF_VERIFICATION_ERROR"
    assert _failed(body) == ["proof", "validityPeriod", "status"]
    issuer = body["results"]["issuer"]
    assert issuer["valid"] is False and "proof" in issuer["skipped"]
    assert "error" not in issuer
    assert body["checks"][:4] == ["wellFormed", "proof", "issuer", "validityPeriod"]
    assert "issuerTrust" in body["results"]


def test_options_checks_never_hides_a_failed_proof(client: TestClient) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency).json()["verifiableCredential"]
    vc["credentialSubject"]["fullName"] = "Han Meimei"
    response = _verify(client, vc, checks=["validityPeriod"])
    assert response.status_code == 422, response.text
    assert _failed(response.json()) == ["proof"]
    asked_for_issuer = _verify(client, vc, checks=["issuer"])
    assert asked_for_issuer.status_code == 422
    assert asked_for_issuer.json()["checks"] == ["wellFormed", "proof", "issuer"]
