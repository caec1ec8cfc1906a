"""Local Redis Clusters for the tests: real ``redis-server`` processes on loopback ports.

:class:`LocalCluster` starts ``masters`` masters (and ``replicas`` replicas each), every
node with AOF on (``appendfsync always``) in a data folder of its own under
``/tmp/cluster-<port>``, joins them with ``redis-cli --cluster create`` and waits until
every slot is served. :meth:`LocalCluster.stop` ends exactly the processes it started.
When ``redis-server`` is missing the test is skipped -- or fails under ``CI=true`` (or
``IDENTITY_REQUIRE_REDIS``), so CI never silently skips the cluster tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

from tests.storage.redis_backends import redis_required

NODE_TIMEOUT_MS = 1000
"""``cluster-node-timeout``: how soon a silent master is failed over by its replica."""


def _need(binary: str) -> str:
    found = shutil.which(binary)
    if found is None:
        reason = f"{binary} is not installed (apt-get install redis-server)"
        if redis_required():
            pytest.fail(f"{reason} -- required here (IDENTITY_REQUIRE_REDIS or CI=true)")
        pytest.skip(reason)
    return found


@dataclass
class LocalCluster:
    """A Redis Cluster of local processes on ``first_port, first_port + 1, …``."""

    first_port: int
    masters: int = 3
    replicas: int = 0
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def ports(self) -> list[int]:
        """Every node's port (masters first, as ``--cluster create`` pairs them)."""
        count = self.masters * (1 + self.replicas)
        return list(range(self.first_port, self.first_port + count))

    @property
    def url(self) -> str:
        """The service's ``redis+cluster://`` URL naming every node."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def start(self) -> LocalCluster:
        """Start every node from an empty folder, create the cluster, wait for it."""
        server, cli = _need("redis-server"), _need("redis-cli")
        for port in self.ports:
            self.start_node(port, server, fresh=True)
        for port in self.ports:
            self._wait_ping(port)
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *nodes,
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait_ready()
        self.wait_replicas_online()
        return self

    def wait_replicas_online(self, timeout: float = 60.0) -> None:
        """Until every live master has ``replicas`` replicas online (synced)."""
        deadline = time.monotonic() + timeout
        while True:
            short = False
            for port in self.ports:
                if not self.alive(port):
                    continue
                info = redis.Redis(port=port, socket_timeout=1).info("replication")
                if info.get("role") != "master":
                    continue
                online = [
                    v
                    for k, v in info.items()
                    if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"
                ]
                short = short or len(online) < self.replicas
            if not short:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the replicas did not come online")
            time.sleep(0.1)

    def start_node(self, port: int, server: str | None = None, *, fresh: bool = False) -> None:
        """Start (or restart, keeping its data) the node on ``port``."""
        folder = Path(f"/tmp/cluster-{port}")
        if fresh and folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        args = [
            server or _need("redis-server"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(NODE_TIMEOUT_MS),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--protected-mode",
            "no",
            "--logfile",
            "redis.log",
        ]
        self.processes[port] = subprocess.Popen(args, stdout=subprocess.DEVNULL)

    def _wait_ping(self, port: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                redis.Redis(port=port, socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every live node says ``cluster_state:ok`` with all 16384 slots served."""
        deadline = time.monotonic() + timeout
        while True:
            ok = True
            for port, process in self.processes.items():
                if process.poll() is not None:
                    continue
                try:
                    info = redis.Redis(port=port, socket_timeout=1).cluster("info")
                except redis.RedisError:
                    ok = False
                    break
                if info.get("cluster_state") != "ok" or int(info["cluster_slots_ok"]) != 16384:
                    ok = False
                    break
            if ok:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the local Redis Cluster did not become ready")
            time.sleep(0.1)

    def client(self, **options: object) -> RedisCluster:
        """A cluster client as the stores want it: raw bytes, no retries of its own
        (:func:`identity.storage.redis_base.check_client`)."""
        nodes = [ClusterNode("127.0.0.1", p) for p in self.ports if self.alive(p)]
        options.setdefault("retry", Retry(NoBackoff(), 0))
        return RedisCluster(startup_nodes=nodes, **options)  # type: ignore[arg-type]

    def alive(self, port: int) -> bool:
        """Whether the node process on ``port`` runs."""
        process = self.processes.get(port)
        return process is not None and process.poll() is None

    def master_of(self, key: str) -> int:
        """The port of the master serving ``key``'s slot now."""
        client = self.client()
        try:
            return int(client.get_node_from_key(key).port)
        finally:
            client.close()

    def wait_promoted(self, key: str, old: int, timeout: float = 60.0) -> int:
        """Until a master other than ``old`` serves ``key``'s slot (a replica took over)
        and the cluster is ready again; that master's port."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                now = self.master_of(key)
            except redis.RedisError:
                now = old
            if now != old and self.alive(now):
                self.wait_ready(timeout)
                return now
            if time.monotonic() > deadline:
                raise TimeoutError("no replica took over from the killed master")
            time.sleep(0.1)

    def kill(self, port: int) -> None:
        """SIGKILL the node on ``port`` (a crash: no shutdown, no last AOF rewrite)."""
        process = self.processes[port]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        """End every process this cluster started, by its own pid."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()


def cluster_ports_free(first_port: int, count: int) -> bool:
    """Whether no Redis answers on the ports (a leftover cluster from a killed run)."""
    for port in range(first_port, first_port + count):
        try:
            redis.Redis(port=port, socket_timeout=0.2, socket_connect_timeout=0.2).ping()
            return False
        except redis.RedisError:
            continue
    return True


def wait_port_closed(port: int) -> None:
    """For the tests that restart a node: until nothing listens on ``port``."""
    while not cluster_ports_free(port, 1):
        time.sleep(0.05)


def environment_with(**values: str) -> dict[str, str]:
    """``os.environ`` plus ``values`` (for the API replica processes)."""
    return {**os.environ, **values}
