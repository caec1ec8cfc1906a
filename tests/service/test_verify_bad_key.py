"""A bearer credential on the public verify routes is checked, never ignored (issue #15).

``POST /credentials/verify`` is public (anonymous callers are rate-limited), but a
credential that is present and wrong, revoked or malformed is refused with 401
problem+json as ``POST /credentials/verify/batch`` and every other route refuse it --
it is never read as anonymous. Nothing is written either way.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.errors import PROBLEMS
from tests.service.conftest import admin, issue, make_issuer, services_of

PROBLEM = "application/problem+json"


def new_verifier(client: TestClient) -> str:
    key: str = client.post("/verifiers", json={"name": "Bank"}, headers=admin()).json()["apiKey"]
    return key


def snapshot(client: TestClient) -> tuple[Any, ...]:
    svc = services_of(client)
    return (svc.store.count_credentials(), svc.logs.log.store.entry_count())


@pytest.fixture
def credential(client: TestClient) -> dict[str, Any]:
    value: dict[str, Any] = issue(client, make_issuer(client)).json()["verifiableCredential"]
    return value


def bad_keys(client: TestClient) -> dict[str, dict[str, str]]:
    good = new_verifier(client)
    key_id = good[len("ik_") :].partition(".")[0]
    revoked = new_verifier(client)
    services_of(client).store.revoke_api_key(revoked[len("ik_") :].partition(".")[0])
    return {
        "wrong secret": {"Authorization": f"Bearer ik_{key_id}.not-the-secret"},
        "unknown key": {"Authorization": "Bearer ik_0123456789abcdef.secret"},
        "revoked": {"Authorization": f"Bearer {revoked}"},
        "not a key": {"Authorization": "Bearer something-else"},
        "x-api-key": {"X-API-Key": f"ik_{key_id}.wrong"},
        "forged citizen token": {"Authorization": "Bearer ct_e30.bad"},
    }


@pytest.mark.parametrize("path", ["/credentials/verify", "/credentials/verify/batch"])
def test_a_bad_key_is_401_on_both_verify_routes(
    client: TestClient, credential: dict[str, Any], path: str
) -> None:
    item = {"verifiableCredential": credential}
    body: Any = [item] if path.endswith("batch") else item
    for name, headers in bad_keys(client).items():
        before = snapshot(client)
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 401, name
        assert response.headers["content-type"] == PROBLEM, name
        problem = response.json()
        assert problem["type"] == PROBLEMS + "unauthenticated", (name, problem)
        assert problem["reason"] == "invalid", name
        assert problem["status"] == 401
        assert response.headers["www-authenticate"].startswith("Bearer"), name
        assert snapshot(client) == before, name


def test_anonymous_and_good_keys_still_verify(
    client: TestClient, credential: dict[str, Any]
) -> None:
    item = {"verifiableCredential": credential}
    assert client.post("/credentials/verify", json=item).status_code == 200
    headers = {"Authorization": f"Bearer {new_verifier(client)}"}
    assert client.post("/credentials/verify", json=item, headers=headers).status_code == 200
    batch = client.post("/credentials/verify/batch", json=[item], headers=headers)
    assert batch.status_code == 200 and batch.json()["verifiedCount"] == 1


def test_another_roles_credential_is_anonymous_on_verify_and_403_on_batch(
    client: TestClient, credential: dict[str, Any]
) -> None:
    agency = make_issuer(client)
    headers = {"Authorization": f"Bearer {agency['apiKey']}"}
    item = {"verifiableCredential": credential}
    assert client.post("/credentials/verify", json=item, headers=headers).status_code == 200
    refused = client.post("/credentials/verify/batch", json=[item], headers=headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"] == PROBLEMS + "forbidden"
