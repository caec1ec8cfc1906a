"""``POST /credentials/verify/batch``: each item answered exactly as the single endpoint
would answer it; the batch refused as a whole (problem+json, nothing written) only when
it cannot be read."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.errors import PROBLEMS, VC_DM
from service.routers import batch
from tests.service.conftest import admin, issue, make_issuer, services_of

PROBLEM = "application/problem+json"


def verifier_key(client: TestClient) -> dict[str, str]:
    key = client.post("/verifiers", json={"name": "Bank"}, headers=admin()).json()["apiKey"]
    return {"Authorization": f"Bearer {key}"}


def snapshot(client: TestClient) -> tuple[Any, ...]:
    svc = services_of(client)
    return (svc.store.count_credentials(), svc.logs.log.store.entry_count())


def single(client: TestClient, item: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = client.post("/credentials/verify", json=item, headers=headers)
    body = response.json()
    body.pop("instance", None)
    return response.status_code, body


@pytest.fixture
def mixed(client: TestClient) -> list[Any]:
    """Verified, revoked, tampered, not well formed, and bad item envelopes."""
    agency = make_issuer(client)
    good = issue(client, agency).json()["verifiableCredential"]
    revoked_response = issue(client, agency).json()
    revoked = revoked_response["verifiableCredential"]
    changed = client.post(
        "/credentials/status",
        json={
            "credentialId": revoked_response["credentialId"],
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert changed.status_code == 200, changed.text
    tampered = copy.deepcopy(good)
    tampered["credentialSubject"]["fullName"] = "Someone Else"
    return [
        {"verifiableCredential": good},
        {"verifiableCredential": revoked},
        {"verifiableCredential": tampered},
        {"verifiableCredential": {**good, "@context": 4}},
        {"verifiableCredential": good, "options": {"checks": ["proof"]}},
        {"verifiableCredential": "not an object"},
        {"options": {}},
        7,
    ]


def test_each_item_is_what_the_single_endpoint_answers(
    client: TestClient, mixed: list[Any]
) -> None:
    headers = verifier_key(client)
    before = snapshot(client)
    response = client.post("/credentials/verify/batch", json=mixed, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(mixed)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [200, 422, 422, 400, 200, 422, 422, 422]
    assert body["verifiedCount"] == 2
    for item, result in zip(mixed, body["results"], strict=True):
        status, expected = single(client, item, headers)
        assert result["status"] == status
        got = {k: v for k, v in result.items() if k != "status"}
        if status == 200:
            assert got == expected
        else:  # the problem document, less the members a batch item has no use for
            names = ["type", "title", "verified", "checks", "results"]
            names += ["detail"] if isinstance(item, dict) else []  # "body" is "item" here
            for name in names:
                assert got[name] == expected.get(name, got[name]), name
            assert got["verified"] is False
    assert body["results"][1]["results"]["status"]["valid"] is False  # revoked: named
    assert snapshot(client) == before


def bad_batch(client: TestClient, headers: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    before = snapshot(client)
    response = client.post("/credentials/verify/batch", headers=headers, **kwargs)
    assert response.headers["content-type"] == PROBLEM, response.text
    assert snapshot(client) == before
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


def test_a_batch_that_cannot_be_read_is_one_problem(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = verifier_key(client)
    json_headers = {**headers, "Content-Type": "application/json"}
    assert bad_batch(client, headers, json={"verifiableCredential": {}})["type"] == (
        VC_DM + "MALFORMED_VALUE_ERROR"
    )
    assert bad_batch(client, json_headers, content=b"[{]")["type"] == VC_DM + "PARSING_ERROR"
    assert bad_batch(client, json_headers, content=b'[{"a":1,"a":2}]')["status"] == 400
    plain = {**headers, "Content-Type": "text/plain"}
    assert bad_batch(client, plain, content=b"[]")["status"] == 415
    monkeypatch.setattr(batch, "MAX_ITEMS", 3)
    too_many = bad_batch(client, headers, json=[{"verifiableCredential": {}}] * 4)
    assert too_many["status"] == 413 and too_many["type"] == PROBLEMS + "payload-too-large"
    monkeypatch.setattr(batch, "MAX_BODY_BYTES", 100)
    big = bad_batch(client, json_headers, content=json.dumps([{"x": "y" * 200}]).encode())
    assert big["status"] == 413


def test_a_batch_needs_a_verifier_key(client: TestClient) -> None:
    body = bad_batch(client, {}, json=[])
    assert body["status"] == 401


def test_an_empty_batch_is_an_empty_answer(client: TestClient) -> None:
    response = client.post("/credentials/verify/batch", json=[], headers=verifier_key(client))
    assert response.status_code == 200
    assert response.json() == {"results": [], "count": 0, "verifiedCount": 0}
