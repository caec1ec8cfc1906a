"""Challenges are bound to their purpose (issue #13): login or a presentation for the
verifier that asked. A verifier that gets a citizen's wallet to sign a presentation for
this service's domain cannot log in as that citizen with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.credentials.presentations import sign_presentation
from identity.errors import VC_DI
from identity.keys import Ed25519PrivateKey
from identity.proofs.eddsa_jcs import EddsaJcs2022
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import NOW, admin

CITIZEN = Ed25519PrivateKey(b"\x0d" * 32)
DID = "did:key:" + CITIZEN.public_key().multibase
INVALID_CHALLENGE = VC_DI + "INVALID_CHALLENGE_ERROR"
SERVICE_DOMAIN = "localhost:8000"  # the netloc of the default IDENTITY_PUBLIC_URL


def _signed(challenge: str, domain: Any) -> dict[str, Any]:
    return sign_presentation(
        [],
        holder_key=CITIZEN,
        holder_did=DID,
        verification_method=f"{DID}#{DID[8:]}",
        challenge=challenge,
        domain=domain,
        suite=EddsaJcs2022(),
        created=NOW,
    )


def _verifier(client: TestClient, name: str = "Bank") -> dict[str, str]:
    key = client.post("/verifiers", json={"name": name}, headers=admin()).json()["apiKey"]
    return {"Authorization": f"Bearer {key}"}


def _verify(
    client: TestClient, vp: Any, challenge: str, headers: dict[str, str] | None = None
) -> Any:
    body = {
        "verifiablePresentation": vp,
        "options": {"challenge": challenge, "domain": SERVICE_DOMAIN},
    }
    return client.post("/presentations/verify", json=body, headers=headers or {})


@pytest.mark.parametrize("asker", ["anonymous", "verifier"])
def test_a_presentation_challenge_never_logs_a_citizen_in(client: TestClient, asker: str) -> None:
    headers = _verifier(client) if asker == "verifier" else {}
    challenge = client.post("/challenges", headers=headers).json()["challenge"]
    # The wallet signs for this service's own domain, as a login would.
    vp = _signed(challenge, client.post("/auth/challenge").json()["domain"])
    stolen = client.post("/auth/token", json={"verifiablePresentation": vp})
    assert stolen.status_code == 422
    assert stolen.json()["type"] == INVALID_CHALLENGE
    assert stolen.json()["reason"] == "purpose"
    assert "access_token" not in stolen.text
    # ... and the challenge still serves the verifier that asked for it.
    assert _verify(client, vp, challenge, headers).status_code == 200


def test_a_login_challenge_never_verifies_a_presentation(client: TestClient) -> None:
    login = client.post("/auth/challenge").json()
    vp = _signed(login["challenge"], login["domain"])
    refused = _verify(client, vp, login["challenge"])
    assert refused.status_code == 422
    assert refused.json()["type"] == INVALID_CHALLENGE
    assert refused.json()["verified"] is False
    # ... and it still logs the citizen in: the refusal used nothing up.
    assert client.post("/auth/token", json={"verifiablePresentation": vp}).status_code == 200


def test_a_login_challenge_is_not_a_callers_own_even_when_those_are_accepted(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        admin_token="a" * 40,
        master_secret="ab" * 32,
        accept_caller_challenges=True,
    )
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        login = client.post("/auth/challenge").json()
        vp = _signed(login["challenge"], login["domain"])
        refused = _verify(client, vp, login["challenge"])
        assert refused.status_code == 422 and refused.json()["type"] == INVALID_CHALLENGE


def test_a_verifiers_challenge_serves_only_that_verifier(client: TestClient) -> None:
    bank, shop = _verifier(client, "Bank"), _verifier(client, "Shop")
    challenge = client.post("/challenges", headers=bank).json()["challenge"]
    vp = _signed(challenge, SERVICE_DOMAIN)
    for other in ({}, shop, admin()):
        refused = _verify(client, vp, challenge, other)
        assert refused.status_code == 422, other
        assert refused.json()["type"] == INVALID_CHALLENGE
    assert _verify(client, vp, challenge, bank).status_code == 200
    assert _verify(client, vp, challenge, bank).status_code == 422  # and only once


def test_login_proofs_are_bound_to_the_services_own_domain(client: TestClient) -> None:
    login = client.post("/auth/challenge").json()
    assert login["domain"] == SERVICE_DOMAIN
    for domain in ("bank.example", "localhost:8001", ["bank.example", SERVICE_DOMAIN]):
        refused = client.post(
            "/auth/token", json={"verifiablePresentation": _signed(login["challenge"], domain)}
        )
        assert refused.status_code == 422
        assert refused.json()["type"] == VC_DI + "INVALID_DOMAIN_ERROR"
    good = _signed(login["challenge"], SERVICE_DOMAIN)
    assert client.post("/auth/token", json={"verifiablePresentation": good}).status_code == 200
