"""Faults on a real local Redis Cluster: too few replicas, a plain URL to a cluster node
(hash slots of an act: tests/cluster/test_spread.py), and the service's answer while writes
cannot be acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis.cluster import RedisCluster

from identity.clock import FixedClock
from identity.errors import PROBLEMS, UnavailableError
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import connect
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.stores import Anchor, CredentialRecord
from service.app import create_app
from service.settings import Settings, SettingsError
from service.storage import open_store
from tests.cluster.servers import LocalCluster
from tests.service.conftest import NOW, admin, credential_for, issue, make_issuer
from tests.storage.redis_backends import REDIS_URL, connect_real_redis

pytestmark = pytest.mark.redis_cluster


def _record(cid: str) -> CredentialRecord:
    return CredentialRecord(
        id=cid,
        digest=b"\x01" * 32,
        issuer_id="i",
        issuer_did="did:example:i",
        type="ResidencePermitCredential",
        subject_id="did:example:s",
        issued_at=datetime(2026, 6, 1, tzinfo=UTC),
    )


def test_too_few_replicas_is_unavailable_and_never_acknowledged(
    cluster_client: RedisCluster, redis_prefix: str
) -> None:
    """The session cluster has no replicas: a write asking for one is refused (503)."""
    store = RedisStore(cluster_client, redis_prefix, min_replicas=1, wait_timeout_ms=50)
    anchor = Anchor(b"entry")
    with pytest.raises(UnavailableError, match="0 of the 1 replicas"):
        store.put_credential(_record("urn:uuid:2"), anchor)
    assert anchor.index is None  # not settled: the caller never reports it as done


@pytest.fixture
def strict_app(
    cluster_client: RedisCluster, redis_prefix: str, tmp_path: Path
) -> Iterator[TestClient]:
    """The service on the cluster (the test then asks its records for a replica)."""
    settings = Settings(
        data_dir=tmp_path,
        admin_token="admin-token-" + "x" * 32,
        master_secret="ab" * 32,
        public_verify_per_minute=1_000_000,
    )
    app = create_app(
        settings,
        clock=FixedClock(NOW),
        store=RedisStore(cluster_client, redis_prefix),
        log_store=DurableRedisLogStore(cluster_client, redis_prefix),
        directory=RedisDirectoryStore(cluster_client, redis_prefix),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_issuance_without_enough_replicas_is_503_not_201(
    strict_app: TestClient, cluster_client: RedisCluster, redis_prefix: str
) -> None:
    agency = make_issuer(strict_app)
    services = strict_app.app.state.services  # type: ignore[attr-defined]
    store: RedisStore = services.store
    store._min_replicas, store._wait_timeout_ms = 1, 50
    before = store.count_credentials()
    response = issue(strict_app, agency, credential_for(agency["did"]))
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    assert response.json()["type"] == PROBLEMS + "unavailable"
    assert store.count_credentials() <= before + 1  # on the master, never acknowledged
    assert strict_app.get("/issuers", headers=admin()).status_code == 200


def test_a_plain_url_to_a_cluster_node_is_refused_in_one_line(
    redis_cluster: LocalCluster, tmp_path: Path
) -> None:
    port = redis_cluster.ports[0]
    settings = Settings(
        data_dir=tmp_path,
        storage_url=f"redis://127.0.0.1:{port}/0",
        admin_token="admin-token-" + "x" * 32,
        master_secret="ab" * 32,
    )
    with pytest.raises(SettingsError) as refused:
        open_store(settings)
    assert "\n" not in str(refused.value)
    assert "redis+cluster://" in str(refused.value)


def test_a_cluster_url_to_a_standalone_redis_is_refused(tmp_path: Path) -> None:
    connect_real_redis().close()  # the standalone test server answers (or skip / fail)
    settings = Settings(
        data_dir=tmp_path,
        storage_url="redis+cluster://" + REDIS_URL.removeprefix("redis://").partition("/")[0],
        admin_token="admin-token-" + "x" * 32,
        master_secret="ab" * 32,
    )
    with pytest.raises(SettingsError, match="IDENTITY_STORAGE_URL"):
        open_store(settings)


def test_cluster_urls_name_every_node(redis_cluster: LocalCluster) -> None:
    client = connect(redis_cluster.url)
    try:
        assert isinstance(client, RedisCluster)
        assert client.ping()
    finally:
        client.close()
