"""``identity serve`` as a newcomer and a container meet it: the public URL follows the
port, a refused start explains itself to the health check, replicas survive the race."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from identity.errors import ConflictError
from service.cli_common import EXIT_FAULTS, EXIT_USAGE
from service.container import Services
from service.settings import Settings
from service.startup import REFUSED
from tests.cli.helpers import EXE, Identity, agency, free_port, one_line_error, serving


def test_in_development_the_public_url_follows_the_served_port(identity: Identity) -> None:
    agency(identity)
    with serving(identity) as url:
        port = url.rsplit(":", 1)[1]
        shown = httpx.get(url + "/issuers/psb").json()
        assert shown["didWeb"] == f"did:web:localhost%3A{port}:agencies:psb"
        health = identity.ok("health", "--url", url)
        assert health.startswith("healthy: ")


def test_production_refuses_a_public_url_that_does_not_match_the_port(
    identity: Identity,
) -> None:
    prod = Identity(identity.data, {"IDENTITY_ENV": "production"})
    result = prod("serve", "--host", "127.0.0.1", "--port", str(free_port()))
    one_line_error(result, EXIT_USAGE, "IDENTITY_PUBLIC_URL is not set")


def test_a_refused_start_answers_its_health_check_with_the_reason(identity: Identity) -> None:
    port = free_port()
    prod = Identity(
        identity.data,
        {
            "IDENTITY_ENV": "production",
            "IDENTITY_PUBLIC_URL": "https://id.city.example",
            "IDENTITY_STORAGE_URL": "redis://127.0.0.1:1/0",
            "IDENTITY_HOLD_ON_REFUSAL": "30",
        },
    )
    proc = subprocess.Popen(
        [str(EXE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=prod.env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert answer.status_code == 503 and answer.json()["type"] == REFUSED
        assert "does not answer" in answer.json()["detail"]
        check = prod("health", "--url", f"http://127.0.0.1:{port}")  # the HEALTHCHECK
        refused = "unhealthy: refusing to start: IDENTITY_STORAGE_URL: Redis at"
        one_line_error(check, EXIT_FAULTS, refused)
        assert "does not answer" in check.stderr
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    lines = [line for line in err.splitlines() if line.startswith("identity:")]
    assert len(lines) == 1 and "refusing to start" in lines[0] and "Traceback" not in err


def test_serve_help_says_it_runs_in_the_foreground(identity: Identity) -> None:
    assert "foreground" in identity.ok("serve", "--help")


def test_a_replica_losing_the_first_checkpoint_race_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, admin_token="a" * 40, master_secret="ab" * 32)

    async def race() -> None:
        replicas = [Services.build(settings) for _ in range(4)]
        lost = replicas[0]
        original = lost.logs.log.start
        calls = []

        async def loses_twice() -> None:
            calls.append(1)
            if len(calls) <= 2:
                raise ConflictError("the log's checkpoint moved during start")
            await original()

        monkeypatch.setattr(lost.logs.log, "start", loses_twice)
        await asyncio.gather(*(r.start() for r in replicas))  # all at once, on one store
        assert len(calls) == 3
        sizes = {r.logs.log.checkpoint.checkpoint.size for r in replicas}
        assert sizes == {0}
        for r in replicas:
            await r.aclose()

    asyncio.run(race())


def test_the_image_installs_the_hash_pinned_lock_file() -> None:
    root = Path(__file__).resolve().parents[2]
    lock = (root / "requirements.lock").read_text()
    pinned = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", lock, re.M))
    project = (root / "pyproject.toml").read_text()
    runtime = project[
        project.index("dependencies = [") : project.index("]", project.index("dependencies = ["))
    ]
    for requirement in re.findall(r'"([A-Za-z0-9_.-]+)', runtime):
        assert requirement.lower().replace("_", "-") in pinned, requirement
    blocks = lock.split("==")[1:]
    assert all("--hash=sha256:" in b for b in blocks)  # every pin carries its hashes
    dockerfile = (root / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile


def test_a_refused_setting_is_named_without_echoing_its_value(identity: Identity) -> None:
    weak = Identity(
        identity.data, {"IDENTITY_ENV": "production", "IDENTITY_ADMIN_TOKEN": "short-hunter2"}
    )
    result = weak("serve", "--port", str(free_port()))
    one_line_error(result, EXIT_USAGE, "IDENTITY_ADMIN_TOKEN: must be set to 32+")
    assert "hunter2" not in result.stderr and "input_value" not in result.stderr
