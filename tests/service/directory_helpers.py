"""A citizen with a did:cityid, as a wallet would act: create, log in, sign consents."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from identity.clock import xsd_datetime
from identity.credentials.presentations import sign_presentation
from identity.dids.cityid import (
    DidState,
    create_operation,
    deactivate_operation,
    did_of,
    key_body,
    update_operation,
)
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.service.conftest import admin, services_of


def agency_headers(agency: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {agency['apiKey']}"}


def catalog_entry(entry_id: str = "psb.household-register", **extra: Any) -> dict[str, Any]:
    return {
        "id": entry_id,
        "title": "Household register",
        "description": "Registered residence and household members of a citizen.",
        "fields": [
            {"name": "fullName", "description": "Full name", "personal": True},
            {"name": "residenceAddress", "description": "Registered address"},
            {"name": "householdMembers", "description": "Members of the household"},
        ],
        "legalBasis": "Household Registration Regulations, art. 12",
        "responsibility": "Population register",
        "requesters": ["*"],
        "conditions": "Only for public services the citizen applies for.",
        **extra,
    }


@dataclass
class Citizen:
    """Holds an Ed25519 key; ``did`` is the did:cityid its create operation names."""

    seed: int = 7
    key: Ed25519PrivateKey = field(init=False)
    did: str = field(init=False)
    fragment: str = "#key-1"

    def __post_init__(self) -> None:
        self.key = Ed25519PrivateKey(bytes([self.seed]) * 32)
        self.did = did_of(create_operation(self.key))

    @property
    def method(self) -> str:
        return self.did + self.fragment

    def register(self, client: TestClient) -> Any:
        response = client.post("/dids", json=create_operation(self.key))
        assert response.status_code == 201, response.text
        return response.json()

    def state(self, client: TestClient) -> DidState:
        return services_of(client).verification.cityid.history(self.did)[-1]

    def rotate(self, client: TestClient, new_seed: int, fragment: str = "#key-2") -> Any:
        new_key = Ed25519PrivateKey(bytes([new_seed]) * 32)
        op = update_operation(
            self.key, self.method, self.state(client), key_body(new_key.public_key(), fragment)
        )
        response = client.post(f"/dids/{self.did}/operations", json=op)
        if response.status_code == 200:
            self.key, self.fragment = new_key, fragment
        return response

    def deactivate(self, client: TestClient) -> Any:
        op = deactivate_operation(self.key, self.method, self.state(client))
        return client.post(f"/dids/{self.did}/operations", json=op)

    def sign(
        self, document: dict[str, Any], created: datetime, purpose: str = "assertionMethod"
    ) -> Any:
        options = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": xsd_datetime(created),
            "verificationMethod": self.method,
            "proofPurpose": purpose,
        }
        return add_proof(EddsaJcs2022(), document, options, self.key)

    def headers(self, client: TestClient, now: datetime) -> dict[str, str]:
        challenge = client.post("/auth/challenge").json()
        vp = sign_presentation(
            [],
            holder_key=self.key,
            holder_did=self.did,
            verification_method=self.method,
            challenge=challenge["challenge"],
            domain=challenge["domain"],
            suite=EddsaJcs2022(),
            created=now,
        )
        response = client.post("/auth/token", json={"verifiablePresentation": vp})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def consent(
        self,
        client: TestClient,
        request_id: str,
        now: datetime,
        *,
        decision: str = "grant",
        valid_for: timedelta = timedelta(days=30),
    ) -> Any:
        """Fetch the template, sign it, post it."""
        headers = self.headers(client, now)
        template = client.get(
            f"/sharing/requests/{request_id}/consent-template",
            params={"decision": decision, "validUntil": xsd_datetime(now + valid_for)},
            headers=headers,
        )
        assert template.status_code == 200, template.text
        signed = self.sign(template.json(), now)
        return client.post(f"/sharing/requests/{request_id}/consent", json=signed, headers=headers)


def publish(client: TestClient, agency: dict[str, Any], entry: dict[str, Any] | None = None) -> Any:
    return client.post("/catalog", json=entry or catalog_entry(), headers=agency_headers(agency))


def ask(
    client: TestClient,
    agency: dict[str, Any],
    subject: str,
    resource: str = "psb.household-register",
    **extra: Any,
) -> Any:
    body = {"resource": resource, "subject": subject, "purpose": "School enrolment", **extra}
    return client.post("/sharing/requests", json=body, headers=agency_headers(agency))


def settle(client: TestClient, timeout: float = 10.0) -> None:
    """Wait until every sequenced log entry is under a signed checkpoint."""
    log = services_of(client).logs.log
    deadline = time.monotonic() + timeout
    while log.checkpoint.checkpoint.size < log.store.entry_count():
        assert time.monotonic() < deadline, "the log did not integrate in time"
        time.sleep(0.005)


def stats(client: TestClient) -> dict[str, Any]:
    response = client.get("/sharing/stats", headers=admin())
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result
