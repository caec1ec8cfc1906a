"""Independent implementations, really run: ACA-Py and Digital Bazaar's npm libraries.

ACA-Py: a fresh agent per test session on loopback, no ledger. ``scripts/ensure-acapy``
(called by ``scripts/check``) installs acapy-agent into ``.venv/acapy``; ``IDENTITY_ACAPY``
names another ``aca-py`` executable. The npm peer: ``scripts/ensure-node-peers`` installs
``tests/interop/js``. Without them the tests skip, except under ``CI=true`` where they fail:
CI must run them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import REPO
from tests.service.conftest import client, clock, settings  # noqa: F401 -- shared fixtures

ACAPY_VERSION = "1.7.0"


@dataclass(frozen=True)
class AcaPy:
    """A running ACA-Py agent's admin API (its VC-API and Data Integrity routes)."""

    http: httpx.Client

    def create_did_key(self) -> str:
        """A new Ed25519 did:key in the agent's wallet."""
        response = self.http.post(
            "/wallet/did/create", json={"method": "key", "options": {"key_type": "ed25519"}}
        )
        response.raise_for_status()
        did: str = response.json()["result"]["did"]
        return did

    def add_proof(self, document: dict[str, Any], did: str) -> dict[str, Any]:
        """ACA-Py's own eddsa-jcs-2022 signer (``POST /vc/di/add-proof``)."""
        options = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "proofPurpose": "assertionMethod",
            "verificationMethod": f"{did}#{did.removeprefix('did:key:')}",
        }
        response = self.http.post(
            "/vc/di/add-proof", json={"document": document, "options": options}
        )
        assert response.status_code == 201, response.text
        secured: dict[str, Any] = response.json()["securedDocument"]
        return secured

    def issue_vc_api(self, credential: dict[str, Any]) -> dict[str, Any]:
        """ACA-Py's VC-API issuer (``POST /vc/credentials/issue``): with an Ed25519 did:key
        and no options it signs Ed25519Signature2020 (1.7 has no DataIntegrityProof there)."""
        response = self.http.post(
            "/vc/credentials/issue", json={"credential": credential, "options": {}}
        )
        assert response.status_code == 201, response.text
        vc: dict[str, Any] = response.json()["verifiableCredential"]
        return vc

    def verify(self, secured: dict[str, Any]) -> httpx.Response:
        """ACA-Py's Data Integrity verifier (``POST /vc/di/verify``): 200 or 400."""
        return self.http.post("/vc/di/verify", json={"securedDocument": secured})


def _acapy_executable() -> Path | None:
    named = os.environ.get("IDENTITY_ACAPY")
    if named:
        return Path(named)
    default = REPO / ".venv" / "acapy" / "bin" / "aca-py"
    return default if default.exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def acapy() -> Iterator[AcaPy]:
    """ACA-Py on 127.0.0.1 with a throwaway Askar wallet, no ledger, no transport."""
    executable = _acapy_executable()
    if executable is None:
        message = "ACA-Py is not installed: run scripts/ensure-acapy (needs Python >= 3.13)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    home = Path(tempfile.mkdtemp(prefix="acapy-"))
    port = _free_port()
    api_key = secrets.token_urlsafe(24)
    # ACA-Py reads its admin API key from the command line only; the key is a throwaway
    # for an agent that listens on loopback for this test session.
    command = [
        str(executable), "start", "--no-ledger", "--no-transport",
        # "--opt=value": a token may begin with "-", which argparse would read as an option.
        "--admin", "127.0.0.1", str(port), f"--admin-api-key={api_key}",
        "--wallet-type", "askar", "--wallet-name", "interop",
        f"--wallet-key={secrets.token_urlsafe(16)}", "--auto-provision", "--log-level", "warning",
    ]  # fmt: skip
    log = (home / "acapy.log").open("w")
    proc = subprocess.Popen(
        command, env={**os.environ, "HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT
    )
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": api_key}, timeout=30
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.TransportError):
                if http.get("/status/ready").json().get("ready") is True:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"ACA-Py did not start: {(home / 'acapy.log').read_text()[-2000:]}")
            time.sleep(0.25)
        version = http.get("/status").json().get("version")
        assert version == ACAPY_VERSION, f"expected ACA-Py {ACAPY_VERSION}, got {version}"
        yield AcaPy(http)
    finally:
        http.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class NodePeer:
    """Digital Bazaar's VC and Data Integrity libraries (npm), one process per call."""

    script: Path

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request to ``tests/interop/js/peer.mjs``; its JSON answer."""
        done = subprocess.run(
            ["node", str(self.script)],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer


@pytest.fixture(scope="session")
def digitalbazaar() -> NodePeer:
    """The npm peer, installed by ``scripts/ensure-node-peers`` (called by scripts/check)."""
    js = Path(__file__).parent / "js"
    if shutil.which("node") is None or not (js / "node_modules" / "@digitalbazaar").is_dir():
        message = "the npm peers are not installed: run scripts/ensure-node-peers"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return NodePeer(js / "peer.mjs")


PROOF_VERIFICATION_ERROR = "https://w3id.org/security#PROOF_VERIFICATION_ERROR"


def assert_verifies_here(api: TestClient, vc: dict[str, Any]) -> dict[str, Any]:
    """POST ``vc`` to our verifier: 200, verified, proof and issuer valid; the body."""
    response = api.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["verified"] is True
    assert body["results"]["proof"]["valid"] is True
    assert body["results"]["issuer"]["valid"] is True
    return body


def assert_refused_here(api: TestClient, vc: dict[str, Any]) -> None:
    """POST ``vc`` to our verifier: 422 with the proof-verification problem type."""
    response = api.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422, response.text
    assert response.json()["type"] == PROOF_VERIFICATION_ERROR
