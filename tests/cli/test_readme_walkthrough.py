"""The README's curl walk-through, run as printed against a real ``identity serve``."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli.helpers import free_port, serve_process

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```sh", text.index("### Walk-through with curl")) + len("```sh")
    return text[start : text.index("```", start)]


@pytest.mark.slow
def test_the_readme_walkthrough_runs_as_printed(tmp_path: Path) -> None:
    # A newcomer's shell: nothing set but PORT; the service's data in ./data beside them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    port = free_port()
    env["PORT"] = str(port)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    with serve_process(env, tmp_path, port):
        result = subprocess.run(
            ["bash", "-e", "-c", walkthrough()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    verdicts = re.findall(r'"verified":(true|false)', out)
    assert verdicts == ["true", "false", "false"], out  # issued, tampered, revoked
    tampered, revoked = out.split('"verified":false')[1:3]
    assert "proof" in tampered.lower()
    assert '"revoked"' in out and "revoked" in revoked
    assert f"did:web:localhost%3A{port}:agencies:psb" in out  # the public URL follows PORT
    assert "audit ok:" in result.stdout + result.stderr
