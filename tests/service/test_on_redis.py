"""The service end to end on the Redis backend (fakeredis and a real server), and its
behaviour when Redis goes away: 503 + Retry-After, nothing half-written, self-recovery."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import PROBLEMS
from identity.storage.redis import RedisStore
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_log import RedisLogStore
from service.app import create_app
from service.settings import Settings
from tests.cluster.fixtures import delete_prefix
from tests.service.conftest import NOW, admin, credential_for, issue, make_issuer, services_of
from tests.service.test_directory_story import story
from tests.storage.redis_backends import new_prefix, real_redis


@pytest.fixture(
    params=[
        "fakeredis",
        pytest.param("redis", marks=pytest.mark.redis_server),
        pytest.param("cluster", marks=pytest.mark.redis_cluster),
    ]
)
def redis_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    settings = Settings(
        data_dir=tmp_path,
        admin_token="admin-token-" + "x" * 32,
        master_secret="ab" * 32,
        public_verify_per_minute=1_000_000,
    )
    prefix = new_prefix()
    if request.param == "fakeredis":
        server = fakeredis.FakeServer()
        yield from _serve(settings, fakeredis.FakeRedis(server=server), prefix, server)
    elif request.param == "cluster":
        cluster = request.getfixturevalue("redis_cluster")
        connection = cluster.client(socket_timeout=5)
        try:
            yield from _serve(settings, connection, prefix, None, DurableRedisLogStore)
        finally:
            delete_prefix(connection, prefix)
            connection.close()
    else:
        with real_redis(prefix) as connection:
            yield from _serve(settings, connection, prefix, None)


def _serve(
    settings: Settings,
    connection: Any,
    prefix: str,
    server: Any,
    log_store: type[RedisLogStore] = RedisLogStore,
) -> Iterator[tuple[TestClient, Any]]:
    """The app with both the records and the log on Redis."""
    app = create_app(
        settings,
        clock=FixedClock(NOW),
        store=RedisStore(connection, prefix),
        log_store=log_store(connection, prefix),
        directory=RedisDirectoryStore(connection, prefix),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, server


def test_the_directory_chain_story_on_redis(
    redis_app: tuple[TestClient, Any], tmp_path: Path
) -> None:
    client, _ = redis_app
    clock = services_of(client).clock
    assert isinstance(clock, FixedClock)
    story(client, clock, tmp_path)
    assert services_of(client).directory.sharing_counts()["event:data.accessed"] == 1


def test_issue_verify_revoke_on_redis(redis_app: tuple[TestClient, Any]) -> None:
    client, _ = redis_app
    agency = make_issuer(client)
    response = issue(client, agency)
    assert response.status_code == 201, response.text
    vc, cred_id = response.json()["verifiableCredential"], response.json()["credentialId"]
    verified = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert verified.status_code == 200, verified.text
    revoked = client.post(
        "/credentials/status",
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
        json={"credentialId": cred_id, "credentialStatus": [{"status": "revoked"}]},
    )
    assert revoked.status_code == 200
    assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 422


@pytest.fixture
def fake_app(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    settings = Settings(
        data_dir=tmp_path, admin_token="admin-token-" + "x" * 32, master_secret="ab" * 32
    )
    server = fakeredis.FakeServer()
    yield from _serve(settings, fakeredis.FakeRedis(server=server), new_prefix(), server)


def test_redis_down_gives_503_with_retry_after_and_recovers(
    fake_app: tuple[TestClient, Any],
) -> None:
    client, server = fake_app
    agency = make_issuer(client)
    server.connected = False
    for response in (
        issue(client, agency),
        client.post("/issuers", json={"name": "X"}, headers=admin()),
        client.get("/health"),
    ):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
        assert response.json()["type"] == PROBLEMS + "unavailable"
    server.connected = True
    assert client.get("/health").status_code == 200
    assert [i["name"] for i in client.get("/issuers").json()] == ["Public Security Bureau"]
    recovered = issue(client, agency, credential_for(agency["did"]), waitForCheckpoint=True)
    assert recovered.status_code == 201, recovered.text
    assert recovered.json()["receipt"]["treeSize"] > recovered.json()["receipt"]["index"]
