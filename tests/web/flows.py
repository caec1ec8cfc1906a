"""What the agencies and the operator do around the pages, over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from identity.clock import xsd_datetime
from tests.service.conftest import ADMIN, BUNDLED_TYPES
from tests.web.conftest import Live

ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def agency(live: Live, name: str = "Public Security Bureau") -> dict[str, Any]:
    """An agency accredited by the operator for the bundled types, from a day ago."""
    created = live.http.post("/issuers", json={"name": name}, headers=ADMIN_HEADERS)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    now = live.clock.now()
    accredited = live.http.post(
        "/accreditations",
        json={
            "issuer": body["id"],
            "types": BUNDLED_TYPES,
            "validFrom": xsd_datetime(now - timedelta(days=1)),
            "validUntil": xsd_datetime(now + timedelta(days=365)),
        },
        headers=ADMIN_HEADERS,
    )
    assert accredited.status_code == 201, accredited.text
    return body


def headers(agency: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {agency['apiKey']}"}


def issue(
    live: Live, issuer: dict[str, Any], subject: str = "did:example:citizen-1", **extra: Any
) -> dict[str, Any]:
    """A residence permit for ``subject``, anchored and under a signed checkpoint."""
    now = live.clock.now()
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "issuer": issuer["did"],
        "validFrom": xsd_datetime(now - timedelta(days=1)),
        "credentialSubject": {
            "id": subject,
            "fullName": "Li Lei",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "1 Hengshan Rd, Xuhui",
            "permitNumber": "SH2026001",
        },
        **extra,
    }
    response = live.http.post(
        "/credentials/issue",
        json={"credential": credential, "options": {"waitForCheckpoint": True}},
        headers=headers(issuer),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def revoke(live: Live, issuer: dict[str, Any], credential_id: str) -> None:
    response = live.http.post(
        "/credentials/status",
        json={"credentialId": credential_id, "credentialStatus": [{"status": "revoked"}]},
        headers=headers(issuer),
    )
    assert response.status_code == 200, response.text
