"""Pytest fixtures of a real local Redis Cluster (a plugin of the root conftest).

``redis_cluster`` is one 3-master cluster for the whole session (ports 7100-7102, see
:class:`~tests.cluster.servers.LocalCluster`); ``cluster_client`` a client of it whose
test's keys (under the test's prefix, hash-tagged as the stores tag it) are deleted after
the test. Tests using them carry the ``redis_cluster`` marker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from redis.cluster import RedisCluster

from identity.storage.redis_cluster import key_prefix
from tests.cluster.servers import LocalCluster, cluster_ports_free

SESSION_PORT = int(os.environ.get("IDENTITY_TEST_CLUSTER_PORT", "7100"))
"""First port of the session cluster (``IDENTITY_TEST_CLUSTER_PORT``; 3 ports)."""


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A 3-master Redis Cluster of local processes, stopped at the end of the session."""
    if not cluster_ports_free(SESSION_PORT, 3):
        pytest.fail(f"ports {SESSION_PORT}-{SESSION_PORT + 2} are taken (a leftover cluster?)")
    cluster = LocalCluster(SESSION_PORT).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def delete_prefix(client: RedisCluster, prefix: str) -> None:
    """Delete every key of ``prefix`` (as tagged on a cluster: the prefix's own tag and the
    credentials' spread tags ``{prefix~N}``) on every master."""
    tag = key_prefix(client, prefix)
    for pattern in (tag + "*", tag.partition("}")[0] + "~*"):
        for key in client.scan_iter(match=pattern, count=1000):
            client.delete(key)


@pytest.fixture
def cluster_client(redis_cluster: LocalCluster, redis_prefix: str) -> Iterator[RedisCluster]:
    """A client of the session's cluster; the test's keys are deleted afterwards."""
    client = redis_cluster.client(socket_timeout=5)
    try:
        yield client
    finally:
        delete_prefix(client, redis_prefix)
        client.close()
