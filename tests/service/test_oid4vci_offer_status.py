"""``GET /oid4vci/offers/{id}/status``: the counter page follows an offer from offered to
redeemed, awaiting approval, approved and issued; locked after wrong PINs, expired after
its code ran out; another agency's offer or no key is refused; no secret in it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.jose.keys import SigningKey
from identity.wallet_client.issuance import credential_request
from tests.sdjwt.conftest import counter_random
from tests.service.conftest import admin, make_issuer, services_of
from tests.service.test_oid4vci_api import SD, access, ask, code_of, created, proof, token


@pytest.fixture
def agency(client: TestClient) -> dict[str, Any]:
    return make_issuer(client)


@pytest.fixture
def holder() -> SigningKey:
    return SigningKey.generate_p256(counter_random())


def status(client: TestClient, agency: dict[str, Any], made: dict[str, Any]) -> Any:
    return client.get(
        f"/oid4vci/offers/{made['offerId']}/status",
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )


def progress(client: TestClient, agency: dict[str, Any], made: dict[str, Any]) -> str:
    response = status(client, agency, made)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["progress"])


def test_an_offer_goes_from_offered_to_redeemed_to_issued(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    made = created(client, agency)
    body = status(client, agency, made).json()
    assert body["progress"] == "offered" and body["triesLeft"] == 5 and body["issued"] == []
    assert body["configurations"] == [SD] and body["expiresAt"] == made["expiresAt"]
    text = str(body)
    assert made["txCode"] not in text and code_of(made) not in text  # no secret
    assert "SH2026001" not in text  # no claim
    bearer = access(client, made)
    assert progress(client, agency, made) == "redeemed"
    assert ask(client, bearer, credential_request(SD, proof(client, holder))).status_code == 200
    done = status(client, agency, made).json()
    assert done["progress"] == "issued" and done["issued"] == [SD]
    assert len(done["credentialIds"]) == 1
    assert services_of(client).store.find_credential(done["credentialIds"][0]) is not None


def test_a_deferred_offer_shows_it_waits_for_approval(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    made = created(client, agency, deferred=True)
    bearer = access(client, made)
    assert ask(client, bearer, credential_request(SD, proof(client, holder))).status_code == 202
    assert progress(client, agency, made) == "awaiting_approval"
    key = {"Authorization": f"Bearer {agency['apiKey']}"}
    assert client.post(f"/oid4vci/offers/{made['offerId']}/approve", headers=key).status_code == 200
    body = status(client, agency, made).json()
    assert body["progress"] == "approved" and body["approved"] is True
    assert "transaction" not in str(body)


def test_wrong_pins_lock_and_time_expires(
    client: TestClient, agency: dict[str, Any], clock: FixedClock
) -> None:
    made = created(client, agency)
    for _ in range(5):
        assert token(client, code_of(made), "000000x").status_code == 400
    body = status(client, agency, made).json()
    assert body["progress"] == "locked" and body["triesLeft"] == 0
    later = created(client, agency, txCode=False)
    assert status(client, agency, later).json()["triesLeft"] is None
    clock.at += timedelta(minutes=16)
    assert progress(client, agency, later) == "expired"


def test_only_the_offering_agency_may_read_it(client: TestClient, agency: dict[str, Any]) -> None:
    made = created(client, agency)
    other = make_issuer(client, "Market Regulation Bureau")
    response = status(client, other, made)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    unknown = status(client, agency, {"offerId": "nope"})
    assert unknown.status_code == 404 and unknown.json()["type"] == response.json()["type"]
    anonymous = client.get(f"/oid4vci/offers/{made['offerId']}/status")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    reader = client.post(
        f"/issuers/{agency['id']}/keys", json={"scopes": ["read"]}, headers=admin()
    ).json()
    narrow = status(client, {"apiKey": reader["apiKey"]}, made)
    assert narrow.status_code == 403
    assert narrow.headers["content-type"] == "application/problem+json"
    verifier = client.post("/verifiers", json={"name": "Counter"}, headers=admin()).json()
    assert status(client, verifier, made).status_code == 403  # not an agency key
    assert progress(client, agency, made) == "offered"  # nothing changed
