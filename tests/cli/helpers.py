"""Run the real ``identity`` console script, and make the rows bulk runs read."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ADMIN = "cli-admin-token-" + "x" * 32
SECRET = "ef" * 32
EXE = Path(sys.executable).with_name("identity")


@dataclass
class Identity:
    """The CLI on one data directory (and storage URL), run as a subprocess."""

    data: Path
    extra: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "IDENTITY_DATA_DIR": str(self.data),
            "IDENTITY_ADMIN_TOKEN": ADMIN,
            "IDENTITY_MASTER_SECRET": SECRET,
            "COLUMNS": "200",
            **self.extra,
        }

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(EXE), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
            cwd=self.data.parent,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def ok(self, *args: str, timeout: float = 120) -> str:
        result = self(*args, timeout=timeout)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def json(self, *args: str) -> object:
        return json.loads(self.ok(*args))


def one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    """The command failed with ``code`` and said ``text`` in one ``identity:`` line."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("identity:")]
    assert len(lines) == 1 and text in lines[0], result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serving(identity: Identity) -> AbstractContextManager[str]:
    """A real ``identity serve`` of ``identity``'s settings on a free loopback port."""
    return serve_process(identity.env, identity.data.parent, free_port())


@contextmanager
def serve_process(env: dict[str, str], cwd: Path, port: int) -> Iterator[str]:
    """``identity serve`` with exactly ``env``, in ``cwd``, on ``port``; its base URL."""
    log = (cwd / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(
        [str(EXE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "identity serve exited"
            assert time.monotonic() < deadline, "identity serve did not come up"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def residence_permit(i: int) -> dict[str, object]:
    """One JSONL row: a residence permit with a stable id (bulk runs resume by id)."""
    return {
        "id": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"did:example:citizen-{i}",
            "fullName": "Li Lei",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "1 Hengshan Rd",
            "permitNumber": f"SH{i:08d}",
        },
    }


def write_rows(path: Path, count: int) -> Path:
    with path.open("w") as fh:
        for i in range(count):
            fh.write(json.dumps(residence_permit(i)) + "\n")
    return path


def agency(identity: Identity, agency_id: str = "psb") -> dict[str, object]:
    """An agency accredited for residence permits."""
    created = identity.json("agency", "create", "Public Security Bureau", "--id", agency_id)
    assert isinstance(created, dict)
    identity.ok(
        "accreditation", "grant", agency_id, "--type", "ResidencePermitCredential",
        "--from", "2026-01-01T00:00:00Z", "--until", "2030-01-01T00:00:00Z",
    )  # fmt: skip
    return created
