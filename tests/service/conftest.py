"""An app per test on a fresh SQLite data directory, with a fixed clock."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from identity.clock import FixedClock
from service.app import create_app
from service.container import Services
from service.settings import Settings

ADMIN = "admin-token-" + "x" * 32
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def service_settings(data_dir: Path, **changes: Any) -> Settings:
    """The tests' service settings in ``data_dir`` (admin token ``ADMIN``, a fixed master
    secret, 64 KiB bodies, public verification not rate-limited), with ``changes``."""
    return Settings(
        data_dir=data_dir,
        admin_token=ADMIN,
        master_secret="ab" * 32,
        max_body_bytes=64 * 1024,
        public_verify_per_minute=1_000_000,
        **changes,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return service_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as c:
        yield c


def services_of(client: TestClient) -> Services:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


BUNDLED_TYPES = [
    "ResidencePermitCredential",
    "BusinessLicenceCredential",
    "ProfessionalQualificationCredential",
    "HealthCertificateCredential",
]


def make_issuer(
    client: TestClient, name: str = "Public Security Bureau", *, accredit: bool = True
) -> dict[str, Any]:
    """An agency, accredited by the operator for the bundled types for a year from NOW."""
    response = client.post("/issuers", json={"name": name}, headers=admin())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    if accredit:
        accredited = client.post(
            "/accreditations",
            json={
                "issuer": body["id"],
                "types": BUNDLED_TYPES,
                "validFrom": "2026-01-01T00:00:00Z",
                "validUntil": "2027-01-01T00:00:00Z",
            },
            headers=admin(),
        )
        assert accredited.status_code == 201, accredited.text
        body["accreditation"] = accredited.json()["id"]
    return body


CITY_CONTEXT = "https://identity-service.example/contexts/city/v1"


def credential_for(did: str, **extra: Any) -> dict[str, Any]:
    """A residence permit for ``did``, naming the type's context: credentials signed in a
    test (not by the issue flow, which adds it) must be valid JSON-LD for both suites."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", CITY_CONTEXT],
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:citizen-1",
            "fullName": "Li Lei",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "Xuhui",
            "permitNumber": "SH2026001",
        },
        **extra,
    }


def issue(
    client: TestClient,
    agency: dict[str, Any],
    credential: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    return client.post(
        "/credentials/issue",
        json={"credential": credential or credential_for(agency["did"]), "options": options},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
