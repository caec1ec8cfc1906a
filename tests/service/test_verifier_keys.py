"""Verifier API keys are revoked by the operator (``DELETE /verifiers/{key_id}``): the
store marks the key and grows the trust version, so every replica -- here two apps on one
SQLite file, or on one real Redis -- refuses it at once; bad revocations are problems
that change nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import PROBLEMS
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import admin, make_issuer, service_settings
from tests.service.test_bad_input import assert_problem
from tests.storage.redis_backends import REDIS_URL, new_prefix, real_redis

BATCH = "/credentials/verify/batch"


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis_server)])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings of one store that several replicas share."""
    if request.param == "sqlite":
        yield service_settings(tmp_path / "data")
        return
    prefix = new_prefix()
    with real_redis(prefix):
        yield service_settings(tmp_path / "data", storage_url=REDIS_URL, redis_prefix=prefix)


@pytest.fixture
def replicas(shared: Settings, clock: FixedClock) -> Iterator[list[TestClient]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                TestClient(create_app(shared, clock=clock), raise_server_exceptions=False)
            )
            for _ in range(2)
        ]


def new_verifier(client: TestClient) -> dict[str, Any]:
    made = client.post("/verifiers", json={"name": "Bank"}, headers=admin())
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def verifies(client: TestClient, key: dict[str, Any]) -> int:
    """The status of an (empty) batch with ``key``: 200 served, 401 refused."""
    headers = {"Authorization": f"Bearer {key['apiKey']}"}
    return client.post(BATCH, json=[], headers=headers).status_code


def test_a_revoked_key_is_refused_at_once_on_every_replica(
    replicas: list[TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    first, second = replicas
    key, other = new_verifier(first), new_verifier(first)
    assert [verifies(r, k) for r in replicas for k in (key, other)] == [200] * 4  # cached
    with caplog.at_level(logging.INFO, logger="identity.events"):
        revoked = first.delete(f"/verifiers/{key['keyId']}", headers=admin())
    assert revoked.status_code == 204 and not revoked.content
    assert [verifies(r, key) for r in (second, first)] == [401, 401]
    refused = second.post(BATCH, json=[],
                          headers={"Authorization": f"Bearer {key['apiKey']}"})  # fmt: skip
    assert_problem(refused, 401, PROBLEMS + "unauthenticated")
    assert "revoked" in refused.json()["detail"]
    assert [verifies(r, other) for r in replicas] == [200, 200]  # another key is untouched
    [event] = [r for r in caplog.records if getattr(r, "fields", {}).get("event")
               == "verifier_key.revoked"]  # fmt: skip
    assert event.fields["key_id"] == key["keyId"]  # type: ignore[attr-defined]
    assert key["apiKey"].partition(".")[2] not in caplog.text  # never the secret
    again = second.delete(f"/verifiers/{key['keyId']}", headers=admin())
    assert again.status_code == 204  # idempotent
    assert verifies(first, key) == 401


def test_bad_revocations_are_problems_and_change_nothing(
    replicas: list[TestClient],
) -> None:
    client = replicas[0]
    key = new_verifier(client)
    agency = make_issuer(client, accredit=False)
    agency_key_id = agency["apiKey"][3:].partition(".")[0]
    verifier_auth = {"Authorization": f"Bearer {key['apiKey']}"}
    cases: list[tuple[str, dict[str, str], int, str]] = [
        ("nope", admin(), 404, PROBLEMS + "not-found"),
        (agency_key_id, admin(), 404, PROBLEMS + "not-found"),  # an agency's key
        (key["keyId"], {}, 401, PROBLEMS + "unauthenticated"),
        (key["keyId"], {"Authorization": "Bearer wrong"}, 401, PROBLEMS + "unauthenticated"),
        (key["keyId"], verifier_auth, 403, PROBLEMS + "forbidden"),  # itself is no operator
        (
            key["keyId"],
            {"Authorization": f"Bearer {agency['apiKey']}"},
            403,
            PROBLEMS + "forbidden",
        ),
        ("x" * 5000, admin(), 404, PROBLEMS + "not-found"),
    ]
    for key_id, headers, status, type_uri in cases:
        body = assert_problem(client.delete(f"/verifiers/{key_id}", headers=headers), status,
                              type_uri)  # fmt: skip
        assert key["apiKey"] not in str(body)
    assert [verifies(r, key) for r in replicas] == [200, 200]
    agency_auth = {"Authorization": f"Bearer {agency['apiKey']}"}
    assert client.get("/issuers", headers=agency_auth).status_code == 200  # still valid
    assert client.delete(f"/issuers/{agency['id']}/keys/{key['keyId']}", headers=admin()
                         ).status_code == 404  # and a verifier's key is no agency's  # fmt: skip
