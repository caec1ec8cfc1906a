"""The log holds exactly what took effect, with real processes (issue #12).

* Two ``identity serve`` replicas on one real Redis race on the same records: duplicate
  issuer ids, duplicate credential ids, and 24 suspend/reinstate requests per credential
  split over both replicas. One act per record is admitted, and for every credential the
  final suspension bit agrees with its last log entry.
* A SQLite service with two worker processes is killed with SIGKILL (the whole process
  group) in the middle of issuing and suspending.

After each, ``identity log reconcile`` -- run as the operator would, in a process of its
own -- finds no orphan leaf and no unanchored record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_client

from identity.log.entries import LogEntry
from identity.storage.redis import RedisStore
from identity.storage.redis_log import RedisLogStore
from tests.scale.test_replicas import (
    ADMIN,
    SECRET,
    Redis,
    _agency,
    _credential,
    _port,
    _wait,
    reconcile,
    replica,
)

pytestmark = [pytest.mark.slow]
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}
PREFIX = "identity:"


def _race(calls: list[Any]) -> list[httpx.Response]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def _post(url: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return lambda: httpx.post(url + path, json=body, headers=headers, timeout=30)


@pytest.mark.redis_server
def test_two_replicas_racing_on_one_redis_admit_one_act_each(tmp_path: Path) -> None:
    server = Redis(tmp_path)
    server.start()
    env = {
        "IDENTITY_STORAGE_URL": server.url,
        "IDENTITY_MASTER_SECRET": SECRET,
        "IDENTITY_ADMIN_TOKEN": ADMIN,
        "IDENTITY_DATA_DIR": str(tmp_path / "cli"),
    }
    try:
        with replica(server, tmp_path / "a") as (a, _), replica(server, tmp_path / "b") as (b, _):
            urls = [a, b]
            issuers = _race(
                [
                    _post(urls[n % 2], "/issuers", {"id": "dup-1", "name": "A"}, ADMIN_HEADERS)
                    for n in range(8)
                ]
            )
            assert sorted(r.status_code for r in issuers) == [201] + [409] * 7
            agency = _agency(a)
            key = {"Authorization": f"Bearer {agency['apiKey']}"}
            document = {**_credential(agency["did"], 0), "id": "urn:uuid:dup-credential"}
            issued = _race(
                [
                    _post(urls[n % 2], "/credentials/issue", {"credential": document}, key)
                    for n in range(16)
                ]
            )
            assert sorted(r.status_code for r in issued) == [201] + [409] * 15
            ids = []
            for n in range(1, 13):
                response = httpx.post(
                    a + "/credentials/issue",
                    headers=key,
                    timeout=30,
                    json={"credential": _credential(agency["did"], n)},
                )
                assert response.status_code == 201, response.text
                ids.append(response.json()["credentialId"])
            accepted: dict[str, int] = {}
            for credential_id in ids:
                flips = [
                    _post(
                        urls[n % 2],
                        "/credentials/status",
                        {
                            "credentialId": credential_id,
                            "credentialStatus": [{"status": ("suspended", "active")[n // 2 % 2]}],
                        },
                        key,
                    )
                    for n in range(24)
                ]
                # 409: already in that state (refused inside the write, no leaf)
                answers = _race(flips)
                assert {r.status_code for r in answers} <= {200, 409}
                accepted[credential_id] = sum(r.status_code == 200 for r in answers)
            client = redis_client.Redis.from_url(server.url)
            store, log = RedisStore(client, PREFIX), RedisLogStore(client, PREFIX)
            entries = [LogEntry.parse(e) for e in log.read_entries(0, log.entry_count())]
            for credential_id in ids:
                last = [e.kind for e in entries if e.fields.get("credential_id") == credential_id]
                record = store.get_credential(credential_id)
                assert record.status_group is not None and record.status_index is not None
                bits = store.get_status_list(record.status_group, "suspension").bits
                bit = bits[record.status_index // 8] >> (7 - record.status_index % 8) & 1
                assert len(last) == accepted[credential_id]  # one leaf per accepted flip
                assert bool(bit) == (last[-1] == "credential.suspended"), credential_id
            assert [e.fields["issuer"] for e in entries if e.kind == "issuer.created"].count(
                "dup-1"
            ) == 1
            client.close()
        result = reconcile(env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("reconcile ok:")
    finally:
        server.kill()


@contextmanager
def sqlite_service(data: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``identity serve`` on SQLite with two worker processes, in its own process group."""
    port = _port()
    env = {
        **os.environ,
        "IDENTITY_DATA_DIR": str(data),
        "IDENTITY_ADMIN_TOKEN": ADMIN,
        "IDENTITY_MASTER_SECRET": SECRET,
        "IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000",
    }
    env.pop("IDENTITY_STORAGE_URL", None)
    data.mkdir(parents=True, exist_ok=True)
    output = (data.parent / "serve.log").open("wb")
    exe = Path(sys.executable).with_name("identity")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/health")
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        output.close()


def test_kill_9_mid_load_on_sqlite_leaves_no_orphan_leaf(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stop = threading.Event()
    with sqlite_service(data) as (url, proc):
        agency = _agency(url)
        key = {"Authorization": f"Bearer {agency['apiKey']}"}

        def work(offset: int) -> None:
            n = offset * 100_000
            with httpx.Client(timeout=5) as client:
                while not stop.is_set():
                    n += 1
                    try:
                        r = client.post(
                            url + "/credentials/issue",
                            headers=key,
                            json={"credential": _credential(agency["did"], n)},
                        )
                        if r.status_code == 201 and n % 3 == 0:
                            client.post(
                                url + "/credentials/status",
                                headers=key,
                                json={
                                    "credentialId": r.json()["credentialId"],
                                    "credentialStatus": [{"status": "suspended"}],
                                },
                            )
                        if n % 7 == 0:
                            client.post(
                                url + "/issuers",
                                headers=ADMIN_HEADERS,
                                json={"id": f"agency-{n % 5}", "name": "Race"},
                            )
                    except httpx.HTTPError:
                        continue

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(3.0)
        os.killpg(proc.pid, signal.SIGKILL)  # every process of the service, mid-write
        proc.wait()
        stop.set()
        for t in threads:
            t.join()
    result = reconcile(
        {
            "IDENTITY_DATA_DIR": str(data),
            "IDENTITY_MASTER_SECRET": SECRET,
            "IDENTITY_ADMIN_TOKEN": ADMIN,
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("reconcile ok:")
    size = int(result.stdout.split()[2])
    assert size > 10, result.stdout  # there was load to kill
