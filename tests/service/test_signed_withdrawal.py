"""A signed consent withdrawal (issue #13): the citizen signs the same consent-receipt
shape with ``decision: withdraw``; its digest is anchored in the log like the grant it
ends. Bad withdrawals are problem+json and change nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.canonical import jcs
from identity.clock import FixedClock
from identity.errors import InvalidConsentError
from identity.registry import sharing
from tests.service.conftest import make_issuer, services_of
from tests.service.directory_helpers import Citizen, agency_headers, ask, publish, settle, stats

PROBLEMS = "https://identity-service.example/problems/"


class Consented:
    """A request the citizen consented to and the holder approved."""

    def __init__(self, client: TestClient, clock: FixedClock) -> None:
        self.client, self.clock = client, clock
        self.holder = make_issuer(client, "Public Security Bureau")
        requester = make_issuer(client, "Education Bureau")
        assert publish(client, self.holder).status_code == 201
        self.citizen = Citizen()
        self.citizen.register(client)
        self.request_id = ask(client, requester, self.citizen.did).json()["id"]
        granted = self.citizen.consent(client, self.request_id, clock.now())
        assert granted.status_code == 200, granted.text
        self.grant = granted.json()["record"]
        path = f"/sharing/requests/{self.request_id}"
        assert (
            client.post(path + "/approve", headers=agency_headers(self.holder)).status_code == 200
        )
        clock.advance(timedelta(hours=1))

    def headers(self, citizen: Citizen | None = None) -> dict[str, str]:
        return (citizen or self.citizen).headers(self.client, self.clock.now())

    def template(self) -> dict[str, Any]:
        response = self.client.get(
            f"/sharing/requests/{self.request_id}/consent-template",
            params={"decision": "withdraw"},
            headers=self.headers(),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def withdraw(self, body: Any, citizen: Citizen | None = None) -> Any:
        return self.client.post(
            f"/sharing/requests/{self.request_id}/withdraw",
            json=body,
            headers=self.headers(citizen),
        )

    def snapshot(self) -> tuple[Any, ...]:
        svc = services_of(self.client)
        return (
            svc.logs.log.store.entry_count(),
            stats(self.client),
            svc.directory.get_request(self.request_id),
        )


@pytest.fixture
def consented(client: TestClient, clock: FixedClock) -> Consented:
    return Consented(client, clock)


def digest(record: Any) -> str:
    return "sha256:" + hashlib.sha256(jcs(record)).hexdigest()


def test_a_signed_withdrawal_is_anchored_like_the_grant_it_ends(consented: Consented) -> None:
    template = consented.template()
    assert template["credentialSubject"]["decision"] == "withdraw"
    assert template["credentialSubject"]["consentDigest"] == digest(consented.grant)
    assert "validUntil" not in template  # a withdrawal is final
    signed = consented.citizen.sign(template, consented.clock.now())
    withdrawn = consented.withdraw(signed)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["record"] == signed
    # An access after it is refused.
    path = f"/sharing/requests/{consented.request_id}/accesses"
    refused = consented.client.post(path, json={}, headers=agency_headers(consented.holder))
    assert refused.status_code == 409
    # The log leaf commits to the signed withdrawal, as it does to the signed grant.
    settle(consented.client)
    trace = consented.client.get("/wallet/access-history", headers=consented.headers()).json()
    events = {e["kind"]: e for e in trace["requests"][0]["history"]}
    for kind, receipt in (("consent.granted", consented.grant), ("consent.withdrawn", signed)):
        assert events[kind]["record"] == receipt
        assert events[kind]["integrated"] is True
        assert json.loads(events[kind]["leaf"])["record_digest"] == digest(receipt)


def _resigned(consented: Consented, change: dict[str, Any]) -> dict[str, Any]:
    template = consented.template()
    template["credentialSubject"].update(change)
    signed: dict[str, Any] = consented.citizen.sign(template, consented.clock.now())
    return signed


BAD = {
    "another citizen signed it": lambda c: Citizen(seed=9).sign(c.template(), c.clock.now()),
    "it names another consent": lambda c: _resigned(c, {"consentDigest": "sha256:" + "0" * 64}),
    "it is a grant": lambda c: _resigned(c, {"decision": "grant"}),
    "it is for another request": lambda c: _resigned(c, {"sharingRequest": "urn:uuid:other"}),
    "its signature is broken": lambda c: {
        **c.citizen.sign(c.template(), c.clock.now()),
        "validFrom": "2020-01-01T00:00:00Z",
    },
    "it is not signed": lambda c: c.template(),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_signed_withdrawal_is_422_and_changes_nothing(
    consented: Consented, case: str
) -> None:
    body = BAD[case](consented)
    before = consented.snapshot()
    response = consented.withdraw(body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEMS + "invalid-consent"
    assert consented.snapshot() == before


def test_a_signed_withdrawal_counts_once(consented: Consented) -> None:
    signed = consented.citizen.sign(consented.template(), consented.clock.now())
    assert consented.withdraw(signed).status_code == 200
    before = consented.snapshot()
    again = consented.withdraw(signed)
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEMS + "sharing-state"
    assert consented.snapshot() == before


def test_a_token_only_withdrawal_says_what_it_rests_on(consented: Consented) -> None:
    withdrawn = consented.withdraw({})
    assert withdrawn.status_code == 200, withdrawn.text
    record = withdrawn.json()["record"]
    assert record["type"] == "ConsentWithdrawal"
    assert record["authenticatedBy"] == "citizen-token"
    assert record["consentDigest"] == digest(consented.grant)


def test_a_withdrawal_receipt_is_no_answer_to_a_request() -> None:
    request = _awaiting()
    receipt = sharing.consent_credential(request, "grant", request.created, request.created)
    receipt["credentialSubject"]["decision"] = "withdraw"
    with pytest.raises(InvalidConsentError):
        sharing.answer(request, receipt, request.subject, request.created, request.created)


def _awaiting() -> Any:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    return sharing.SharingRequest(
        "r1",
        "edu",
        "psb",
        "did:key:zCitizen",
        "psb.register",
        sharing.AWAITING,
        1,
        jcs({"requester": "did:key:zEdu", "holder": "did:key:zPsb"}).decode(),
        now,
        now,
    )


def _huge_json() -> Iterator[bytes]:
    yield b'{"padding": "'
    for _ in range(64):  # 4 MiB, chunked: no Content-Length announces it
        yield b"a" * 65_536
    yield b'"}'


def test_a_huge_chunked_withdrawal_is_413_and_changes_nothing(consented: Consented) -> None:
    before = consented.snapshot()
    response = consented.client.post(
        f"/sharing/requests/{consented.request_id}/withdraw",
        content=_huge_json(),
        headers={**consented.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEMS + "payload-too-large"
    assert consented.snapshot() == before
