"""No acknowledged write is lost when a Redis Cluster master dies (issue #16, item 2).

A cluster of 3 masters with 1 replica each (6 ``redis-server`` processes, AOF on,
``appendfsync always``), two API replicas (``identity serve`` on ports 9700/9701) with
``IDENTITY_REDIS_MIN_REPLICAS=1``, several threads issuing credentials against both; mid
load the master serving the service's hash slot is killed with SIGKILL and its replica
takes over (Redis Cluster's automatic failover). Afterwards, through the surviving
topology: every credential that got 201 verifies and sits in the log exactly once at the
index its receipt names, the log has no gap, every checkpoint seen is consistent with the
newest (it never forked), ``identity log reconcile`` finds nothing, the auditor passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from identity.storage.redis_cluster import key_prefix
from tests.cluster.servers import LocalCluster, cluster_ports_free
from tests.scale.test_replicas import ADMIN, SECRET, Load, _agency, _check_everything, _wait

pytestmark = [pytest.mark.slow, pytest.mark.redis_cluster]

FIRST_PORT = 7110
API_PORTS = (9700, 9701)
PREFIX = "failover:"


def _environment(cluster: LocalCluster, data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "IDENTITY_STORAGE_URL": cluster.url,
        "IDENTITY_REDIS_PREFIX": PREFIX,
        "IDENTITY_REDIS_MIN_REPLICAS": "1",
        "IDENTITY_REDIS_WAIT_TIMEOUT_MS": "500",
        "IDENTITY_REDIS_TIMEOUT_S": "2",
        "IDENTITY_ADMIN_TOKEN": ADMIN,
        "IDENTITY_MASTER_SECRET": SECRET,
        "IDENTITY_DATA_DIR": str(data),
        "IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000",
        "IDENTITY_PUBLIC_URL": "https://identity.example",  # one service, two replicas
    }


@contextmanager
def api_replica(cluster: LocalCluster, data: Path, port: int) -> Iterator[str]:
    """``identity serve`` on ``port`` against the cluster; its output kept in ``data``."""
    data.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).with_name("identity")
    output = (data / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=_environment(cluster, data),
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/health")
        yield url
    except BaseException:
        output.flush()
        sys.stderr.write((data / "serve.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)
        output.close()


def _wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become healthy after the failover")


@pytest.fixture
def six_nodes() -> Iterator[LocalCluster]:
    """3 masters, 1 replica each; stopped (every process it started) afterwards."""
    if not cluster_ports_free(FIRST_PORT, 6):
        pytest.fail(f"ports {FIRST_PORT}-{FIRST_PORT + 5} are taken (a leftover cluster?)")
    cluster = LocalCluster(FIRST_PORT, masters=3, replicas=1)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def test_a_master_killed_mid_load_loses_nothing_acknowledged(
    six_nodes: LocalCluster, tmp_path: Path
) -> None:
    cluster = six_nodes
    tag = key_prefix(cluster.client(), PREFIX)
    with (
        api_replica(cluster, tmp_path / "a", API_PORTS[0]) as a,
        api_replica(cluster, tmp_path / "b", API_PORTS[1]) as b,
    ):
        agency = _agency(a)
        load = Load([a, b], agency)
        with load.running(threads=6):
            time.sleep(3.0)
            before = len(load.acked)
            victim = cluster.master_of(tag + "log:size")
            cluster.kill(victim)  # SIGKILL: the replica must take over by itself
            promoted = cluster.wait_promoted(tag + "log:size", victim)
            assert promoted != victim
            _wait_healthy(a)
            _wait_healthy(b)
            time.sleep(3.0)
        assert before > 0 and len(load.acked) > before, "no issuance around the failover"
        with httpx.Client(timeout=10) as client:
            for vc, _ in load.acked:
                verified = client.post(a + "/credentials/verify", json={"verifiableCredential": vc})
                assert verified.status_code == 200, verified.text
                assert verified.json()["verified"] is True
        _check_everything(b, load, tmp_path / "audit.json")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("identity")), "log", "reconcile"],
        env=_environment(cluster, tmp_path / "cli"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
