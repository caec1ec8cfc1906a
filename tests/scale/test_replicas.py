"""Nothing acknowledged is ever lost: real replicas on a real Redis, killed mid-load.

Each test starts its own ``redis-server`` (AOF on, ``appendfsync always``) and two API
replicas (``identity serve`` processes), issues credentials from several threads against
both, and kills something with SIGKILL mid-load. Then, through the surviving replica and
the public read API only, it checks: every credential whose issue request got ``201`` is
in the log exactly once at the index its receipt names; indices are gap-free; every
checkpoint seen is consistent with the next; and the outside auditor passes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from identity.canonical import jcs
from identity.log.checkpoint import NoteVerifier, open_checkpoint
from identity.log.entries import LogEntry
from identity.log.hashing import leaf_hash
from identity.log.proofs import verify_consistency
from service.audit import audit

pytestmark = [pytest.mark.slow, pytest.mark.redis_server]

ADMIN = "replica-admin-token-" + "x" * 32
SECRET = "cd" * 32


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


class Redis:
    """A private redis-server with AOF fsynced on every write."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            if os.environ.get("CI") == "true" or os.environ.get("IDENTITY_REQUIRE_REDIS"):
                pytest.fail("redis-server is required here (scripts/ensure-redis installs it)")
            pytest.skip("redis-server is not installed (scripts/ensure-redis installs it)")
        self.port = _port()
        self.dir = directory
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextmanager
def replica(redis: Redis, data: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _port()
    env = {
        **os.environ,
        "IDENTITY_STORAGE_URL": redis.url,
        "IDENTITY_ADMIN_TOKEN": ADMIN,
        "IDENTITY_MASTER_SECRET": SECRET,
        "IDENTITY_DATA_DIR": str(data),
        "IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000",
        "IDENTITY_REDIS_TIMEOUT_S": "1",
    }
    exe = Path(sys.executable).with_name("identity")
    data.mkdir(parents=True, exist_ok=True)
    output = (data / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/health")
        yield url, proc
    except BaseException:
        output.flush()
        sys.stderr.write((data / "serve.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)
        output.close()


def _agency(url: str) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    agency: dict[str, Any] = httpx.post(
        url + "/issuers", json={"name": "Bureau"}, headers=admin
    ).json()
    httpx.post(
        url + "/accreditations",
        headers=admin,
        json={
            "issuer": agency["id"],
            "types": ["ResidencePermitCredential"],
            "validUntil": "2099-01-01T00:00:00Z",
        },
    ).raise_for_status()
    return agency


def _credential(did: str, n: int) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"did:example:{n}",
            "fullName": f"Citizen {n}",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "Xuhui",
            "permitNumber": f"SH{n:09d}",
        },
    }


class Load:
    """Threads issuing credentials round-robin over the replicas, recording every 201."""

    def __init__(self, urls: list[str], agency: dict[str, Any]) -> None:
        self.urls, self.agency = urls, agency
        self.acked: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.checkpoints: list[bytes] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._n = 0

    def _worker(self, offset: int) -> None:
        with httpx.Client(timeout=5) as client:
            turn = offset
            while not self.stop.is_set():
                with self._lock:
                    self._n += 1
                    n = self._n
                url = self.urls[turn % len(self.urls)]
                turn += 1
                try:
                    r = client.post(
                        url + "/credentials/issue",
                        json={"credential": _credential(self.agency["did"], n)},
                        headers={"Authorization": f"Bearer {self.agency['apiKey']}"},
                    )
                    if len(self.checkpoints) < 200 and n % 10 == 0:
                        note = client.get(url + "/log/checkpoint")
                        if note.status_code == 200:
                            self.checkpoints.append(note.content)
                except httpx.HTTPError:
                    continue  # a killed replica or Redis restart: not acknowledged
                if r.status_code == 201:
                    body = r.json()
                    with self._lock:
                        self.acked.append((body["verifiableCredential"], body["receipt"]))

    @contextmanager
    def running(self, threads: int = 8) -> Iterator[Load]:
        workers = [threading.Thread(target=self._worker, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        try:
            yield self
        finally:
            self.stop.set()
            for w in workers:
                w.join()


def _settle(url: str, verifier: NoteVerifier) -> int:
    """Wait until the survivor has integrated every sequenced entry; return the size."""
    deadline = time.monotonic() + 30
    last = -1
    while time.monotonic() < deadline:
        size = open_checkpoint(httpx.get(url + "/log/checkpoint").content, verifier).checkpoint.size
        if size == last:
            return size
        last = size
        time.sleep(1.0)
    raise AssertionError("the log did not settle")


def _check_everything(url: str, load: Load, state: Path) -> None:
    key = httpx.get(url + "/log/key").json()
    verifier = NoteVerifier.from_vkey(key["vkey"])
    # Nudge integration (any act triggers it), then wait for the log to settle.
    httpx.post(
        url + "/issuers", json={"name": "after"}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    size = _settle(url, verifier)
    assert load.acked, "no request was acknowledged"
    issued: dict[str, int] = {}
    leaves: list[bytes] = []
    with httpx.Client(timeout=10) as client:
        for index in range(size):  # gap-free: every index up to the size is readable
            entry = client.get(f"{url}/log/entries/{index}")
            assert entry.status_code == 200, (index, entry.text)
            data = base64.b64decode(entry.json()["entry"])
            leaves.append(leaf_hash(data))
            parsed = LogEntry.parse(data)
            if parsed.kind == "credential.issued":
                digest = parsed.fields["credential_digest"]
                assert digest not in issued, f"credential logged twice: {digest}"
                issued[digest] = index
    for vc, receipt in load.acked:
        digest = "sha256:" + hashlib.sha256(jcs(vc)).hexdigest()
        assert issued.get(digest) == receipt["index"], "an acknowledged credential is missing"
        assert leaves[receipt["index"]].hex() == receipt["leafHash"]
    seen = [open_checkpoint(n, verifier).checkpoint for n in load.checkpoints]
    seen.sort(key=lambda c: c.size)
    for older, newer in itertools.pairwise(seen):
        if older.size == 0 or older.size == newer.size:
            assert older.size != newer.size or older.root == newer.root
            continue
        proof = httpx.get(
            f"{url}/log/proofs/consistency", params={"first": older.size, "second": newer.size}
        ).json()
        hashes = [bytes.fromhex(h) for h in proof["path"]]
        verify_consistency(older.size, newer.size, older.root, newer.root, hashes)
    report = audit(url, state, verifier)
    assert report.checkpoint.checkpoint.size >= size


def reconcile(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``identity log reconcile`` (issue #12) against the stores ``env`` names."""
    exe = Path(sys.executable).with_name("identity")
    return subprocess.run(
        [str(exe), "log", "reconcile"],
        env={**os.environ, "IDENTITY_MASTER_SECRET": SECRET, "IDENTITY_ADMIN_TOKEN": ADMIN, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _reconciled(redis: Redis, data: Path) -> None:
    """No orphan leaf and no unanchored record after the kill."""
    result = reconcile({"IDENTITY_STORAGE_URL": redis.url, "IDENTITY_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_replica_killed_mid_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    redis = Redis(tmp_path)
    redis.start()
    try:
        with (
            replica(redis, tmp_path / "a") as (a, _),
            replica(redis, tmp_path / "b") as (b, proc_b),
        ):
            agency = _agency(a)
            load = Load([a, b], agency)
            with load.running():
                time.sleep(2.0)
                proc_b.send_signal(signal.SIGKILL)  # kill -9, mid-load
                time.sleep(2.0)
            _check_everything(a, load, tmp_path / "audit.json")
            _reconciled(redis, tmp_path / "cli")
    finally:
        redis.kill()


def test_redis_restarted_mid_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    redis = Redis(tmp_path)
    redis.start()
    try:
        with replica(redis, tmp_path / "a") as (a, _), replica(redis, tmp_path / "b") as (b, _):
            agency = _agency(a)
            load = Load([a, b], agency)
            with load.running():
                time.sleep(2.0)
                redis.kill()  # SIGKILL: only what the AOF fsynced survives
                time.sleep(1.0)
                redis.start()  # the replicas must recover by themselves
                time.sleep(3.0)
            _check_everything(a, load, tmp_path / "audit.json")
            _wait(b + "/health")
            _reconciled(redis, tmp_path / "cli")
    finally:
        redis.kill()
