"""The errors a newcomer meets first say what was wrong and what would be right."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import VC_DM
from tests.service.conftest import NOW, admin, credential_for, issue, make_issuer
from tests.service.test_bad_input import snapshot


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_a_missing_issuer_names_the_agency_did_to_set(client: TestClient) -> None:
    agency = make_issuer(client)
    credential = credential_for(agency["did"])
    del credential["issuer"]
    before = snapshot(client)
    body = _problem(issue(client, agency, credential), 422)
    assert body["type"] == VC_DM + "MALFORMED_VALUE_ERROR"
    assert 'has no "issuer"' in body["detail"] and "did:key:" in body["detail"]
    assert snapshot(client) == before


def test_an_unknown_cryptosuite_lists_the_supported_ones(client: TestClient) -> None:
    agency = make_issuer(client)
    body = _problem(issue(client, agency, cryptosuite="ecdsa-rdfc-2019"), 422)
    assert body["type"] == VC_DM + "MALFORMED_VALUE_ERROR"  # the options, not a proof
    assert "'ecdsa-rdfc-2019'" in body["detail"] and "proof" not in body["title"].lower()
    assert body["supported"] == ["eddsa-jcs-2022", "eddsa-rdfc-2022"]
    assert "eddsa-jcs-2022, eddsa-rdfc-2022" in body["detail"]


def test_a_date_without_a_time_gets_a_datetimestamp_example(client: TestClient) -> None:
    agency = make_issuer(client)
    body = _problem(
        issue(client, agency, credential_for(agency["did"], validUntil="2030-01-01")), 422
    )
    assert "validUntil must be an XML Schema dateTimeStamp" in body["detail"]
    assert body["example"] == "2030-01-01T00:00:00Z" and "2030-01-01T00:00:00Z" in body["detail"]
    accredit = client.post(
        "/accreditations",
        json={
            "issuer": agency["id"],
            "types": ["HealthCertificateCredential"],
            "validUntil": "2031-05-06",
        },
        headers=admin(),
    )
    assert "e.g. 2031-05-06T00:00:00Z" in _problem(accredit, 422)["detail"]


def test_expired_and_not_yet_valid_say_when(client: TestClient, clock: FixedClock) -> None:
    agency = make_issuer(client)
    credential = credential_for(agency["did"], validUntil="2026-06-02T00:00:00Z")
    vc = issue(client, agency, credential).json()["verifiableCredential"]
    clock.advance(timedelta(days=3))
    body = _problem(client.post("/credentials/verify", json={"verifiableCredential": vc}), 422)
    validity = body["results"]["validityPeriod"]["error"]["detail"]
    assert validity == (
        "credential has expired: validUntil was 2026-06-02T00:00:00Z, now is "
        f"{(NOW + timedelta(days=3)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    )
    future = credential_for(agency["did"], validFrom="2026-09-01T00:00:00Z")
    vc = issue(client, agency, future).json()["verifiableCredential"]
    body = _problem(client.post("/credentials/verify", json={"verifiableCredential": vc}), 422)
    assert "not yet valid: validFrom is 2026-09-01T00:00:00Z" in str(body["results"])
