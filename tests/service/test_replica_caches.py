"""Two service replicas on one Redis: a revocation on A is seen by the next request on B
(issue #15: the versioned caches of identity/registry/cache.py have stale bound zero).

Each test first warms replica B's caches (the same request answered), then revokes on
replica A, then asks B again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.storage.redis import RedisStore
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.redis_log import RedisLogStore
from service.app import create_app
from tests.service.conftest import NOW, admin, issue, make_issuer, service_settings, services_of
from tests.service.test_verify_bad_key import new_verifier
from tests.storage.redis_backends import new_prefix, real_redis

Replicas = tuple[TestClient, TestClient]


@pytest.fixture(params=["fakeredis", pytest.param("redis", marks=pytest.mark.redis_server)])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Replicas]:
    prefix = new_prefix()
    clock = FixedClock(NOW)
    with ExitStack() as stack:
        if request.param == "fakeredis":
            server = fakeredis.FakeServer()
            connections = [fakeredis.FakeRedis(server=server) for _ in range(2)]
        else:
            connections = [stack.enter_context(real_redis(prefix)) for _ in range(2)]
        clients = []
        for n, connection in enumerate(connections):
            app = create_app(
                service_settings(tmp_path / f"replica-{n}"),
                clock=clock,
                store=RedisStore(connection, prefix),
                log_store=RedisLogStore(connection, prefix),
                directory=RedisDirectoryStore(connection, prefix),
            )
            clients.append(stack.enter_context(TestClient(app, raise_server_exceptions=False)))
        yield clients[0], clients[1]


def _bearer(agency: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {agency['apiKey']}"}


def _key_id(agency: dict[str, Any]) -> str:
    return str(agency["apiKey"]).removeprefix("ik_").partition(".")[0]


def test_an_api_key_revoked_on_a_is_refused_by_the_next_request_on_b(replicas: Replicas) -> None:
    a, b = replicas
    agency = make_issuer(a)
    vc = issue(b, agency).json()["verifiableCredential"]
    body = {"verifiableCredential": vc}
    assert b.post("/credentials/verify", json=body, headers=_bearer(agency)).status_code == 200
    assert issue(b, agency).status_code == 201  # B's cache holds the key now

    revoked = a.delete(f"/issuers/{agency['id']}/keys/{_key_id(agency)}", headers=admin())
    assert revoked.status_code == 204

    refused = issue(b, agency)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    verify = b.post("/credentials/verify", json=body, headers=_bearer(agency))
    assert verify.status_code == 401
    assert b.post("/credentials/verify", json=body).status_code == 200  # anonymous still is


def test_an_accreditation_revoked_on_a_refuses_issuance_and_trust_on_b(
    replicas: Replicas,
) -> None:
    a, b = replicas
    agency = make_issuer(a)
    vc = issue(b, agency).json()["verifiableCredential"]  # issued at NOW
    body = {"verifiableCredential": vc, "options": {"requireAccreditedIssuer": True}}
    before = b.post("/credentials/verify", json=body)
    assert before.status_code == 200
    assert before.json()["results"]["issuerTrust"]["accredited"] is True

    revoked = a.post(f"/accreditations/{agency['accreditation']}/revoke", headers=admin())
    assert revoked.status_code == 200  # revoked from NOW on: the credential's own moment

    assert issue(b, agency).status_code == 403
    after = b.post("/credentials/verify", json=body)
    assert after.status_code == 422
    assert after.json()["results"]["issuerTrust"]["valid"] is False
    assert after.json()["verified"] is False


def test_an_agency_created_on_a_after_b_missed_it_is_trusted_on_b(replicas: Replicas) -> None:
    a, b = replicas
    agency = make_issuer(a, accredit=False)
    vc = issue(b, agency)
    assert vc.status_code == 403  # not accredited yet (B remembers the empty list)
    granted = a.post(
        "/accreditations",
        json={
            "issuer": agency["id"],
            "types": ["ResidencePermitCredential"],
            "validFrom": "2026-01-01T00:00:00Z",
            "validUntil": "2027-01-01T00:00:00Z",
        },
        headers=admin(),
    )
    assert granted.status_code == 201
    assert issue(b, agency).status_code == 201


def test_a_credential_revoked_on_a_fails_its_status_check_on_b_at_once(
    replicas: Replicas,
) -> None:
    """B reads every version of a verification in one round trip (``read_versions``):
    the status list's version moved on A, so B's decoded list is not used again."""
    a, b = replicas
    agency = make_issuer(a)
    issued = issue(a, agency).json()
    body = {"verifiableCredential": issued["verifiableCredential"]}
    for headers in ({}, {"Authorization": f"Bearer {new_verifier(b)}"}):
        assert b.post("/credentials/verify", json=body, headers=headers).status_code == 200
    store = services_of(b).store
    reads: list[Any] = []
    real = store.read_versions

    def counted(lists: Any) -> Any:
        reads.append(sorted(lists))
        return real(lists)

    store.read_versions = counted  # type: ignore[method-assign]
    changed = a.post(
        "/credentials/status",
        json={"credentialId": issued["credentialId"], "credentialStatus": [{"status": "revoked"}]},
        headers=_bearer(agency),
    )
    assert changed.status_code == 200, changed.text
    for headers in ({}, {"Authorization": f"Bearer {new_verifier(a)}"}):
        reads.clear()
        refused = b.post("/credentials/verify", json=body, headers=headers)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["results"]["status"]["valid"] is False
        assert len(reads) == 1 and len(reads[0]) == 2  # one read: both of its lists
